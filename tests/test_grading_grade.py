"""`nutshell grade`: full marks for the solutions, and a fair verdict for every way a submission can
go wrong. The adversarial submissions are built here from the solution notebooks with nbformat."""
import csv
import functools
import json
import pickle
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nutshell_lib.cli import main as nutshell
from nutshell_lib.grading import check, run_student
from nutshell_lib.grading.child import flatten_outputs
from nutshell_lib.grading.grade import grade_batch, submission_cases, submission_seed, unique_names
from nutshell_lib.grading.questions import (EXERCISES, GRADING_STREAM, PUBLIC_SEED, PUBLIC_STREAM, QUESTIONS,
                                            draw_cases)
from nutshell_lib.grading.run_student import Limits, Task, run_submission, start_child
from nutshell_lib.grading.sandbox import NO_SANDBOX, SandboxMode, SandboxUnavailable, choose_mode

ROOT = Path(__file__).resolve().parents[1]
LIMITS = Limits(seconds=15, memory_bytes=1 << 30)
SEED = 11


def submission(tmp_path, topic, name, edits=(), extra_cells=(), drop_cells_with=None) -> Path:
    """A copy of the solution of ``topic`` with text replacements and extra code cells."""
    notebook = nbformat.read(ROOT / "solutions" / f"{topic}.ipynb", as_version=4)
    for old, new in edits:
        cells = [cell for cell in notebook.cells if cell.cell_type == "code" and old in cell.source]
        assert cells, f"{old!r} is not in {topic}"
        for cell in cells:
            cell.source = cell.source.replace(old, new)
    if drop_cells_with:
        notebook.cells = [cell for cell in notebook.cells if drop_cells_with not in cell.source]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in extra_cells]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, str(path))
    return path


@functools.cache
def grading_sandbox() -> SandboxMode:
    """The sandbox (as on CI), probed once; where none works (macOS), the honest verdicts tested
    here still hold unconfined (tests/test_grading_sandbox.py is skipped there)."""
    try:
        return choose_mode()
    except SandboxUnavailable:
        return NO_SANDBOX


def grade(tmp_path, paths, *, seed=SEED, limits=LIMITS, exercise=None) -> dict[str, dict]:
    results = grade_batch(paths, tmp_path / "graded", seed=seed, exercise=exercise, limits=limits, jobs=2,
                          sandbox=grading_sandbox())
    return {Path(path).stem: result for path, result in zip(paths, results)}


def by_name(result) -> dict[str, dict]:
    return {test["name"]: test for test in result["tests"]}


def test_every_solution_gets_full_marks(tmp_path):
    paths = sorted((ROOT / "solutions").glob("*.ipynb"))
    results = grade(tmp_path, paths)
    for path in paths:
        result = results[path.stem]
        assert result["score"] == EXERCISES[path.stem].max_score, json.dumps(result, indent=1)
        for test in result["tests"]:
            assert test["status"] == "passed" and test["score"] == test["max_score"] > 0
            assert set(test) == {"name", "score", "max_score", "status", "output"}
        assert json.loads((tmp_path / "graded" / f"{path.stem}.json").read_text()) == result
    with open(tmp_path / "graded" / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["submission"] for row in rows] == [p.name for p in paths]
    assert all(float(row["score"]) == float(row["max_score"]) == 10 for row in rows)


def test_unsolved_exercises_get_zero_and_say_not_implemented(tmp_path):
    paths = sorted((ROOT / "exercises").glob("*.ipynb"))
    results = grade(tmp_path, paths)
    assert set(results) == set(EXERCISES)  # every exercise, as handed out
    for result in results.values():
        assert result["score"] == 0
        assert all("not implemented" in test["output"] and test["status"] == "failed" for test in result["tests"])


def hard_coded_sigmoid() -> str:
    """A sigmoid that returns the answers of the public cases from a table, and zeros otherwise."""
    table = [(args[0].tolist(), flatten_outputs(QUESTIONS["sigmoid"].reference(*args))[0].tolist())
             for args in draw_cases(QUESTIONS["sigmoid"], PUBLIC_SEED, PUBLIC_STREAM)]
    return (f"PUBLIC_ANSWERS = {table!r}\n\n"
            "def sigmoid(z):\n"
            "    for inputs, outputs in PUBLIC_ANSWERS:\n"
            "        if np.shape(inputs) == np.shape(z) and np.allclose(inputs, z):\n"
            "            return np.array(outputs)\n"
            "    return np.full(np.shape(z), 0.5)\n")


def test_answers_hard_coded_for_the_public_cases_fail(tmp_path, capsys):
    namespace = {}
    exec("import numpy as np\n" + hard_coded_sigmoid(), namespace)
    assert check("sigmoid", namespace["sigmoid"])  # it fools the learner's own check ...
    path = submission(tmp_path, "01_sigmoid", "hard_coded", extra_cells=[hard_coded_sigmoid()])
    tests = by_name(grade(tmp_path, [path])["hard_coded"])
    assert tests["sigmoid"]["score"] == 0 and "FAILED" in tests["sigmoid"]["output"]  # ... not the grader


PATCHING_SIGMOID = '''
class Sneaky:  # a class body runs when it is defined, so this patches numpy before anything is graded
    np.allclose = lambda *args, **kwargs: True
    np.testing.assert_allclose = lambda *args, **kwargs: None


def check(*args, **kwargs):
    return True


def sigmoid(z):
    import numpy
    numpy.allclose = numpy.array_equal = lambda *args, **kwargs: True
    numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.shape(a), bool)
    try:
        import nutshell_lib.grading.compare as compare
        compare.compare = lambda *args, **kwargs: None
    except ImportError:
        pass
    return numpy.full(numpy.shape(z), 0.25)  # wrong for every case
'''


def test_patching_numpy_or_the_checks_does_not_pass(tmp_path):
    path = submission(tmp_path, "01_sigmoid", "patching", extra_cells=[PATCHING_SIGMOID])
    tests = by_name(grade(tmp_path, [path])["patching"])
    assert tests["sigmoid"]["score"] == 0 and "differs" in tests["sigmoid"]["output"]
    assert tests["binary_cross_entropy_with_logits"]["score"] == 0  # it calls the broken sigmoid


def test_an_endless_loop_times_out_and_the_batch_goes_on(tmp_path):
    looping = submission(tmp_path, "02_perceptron", "looping",
                         edits=[("    return np.min(y * (X @ w + b)) / np.linalg.norm(w)", "    while True:\n        pass")])
    solved = ROOT / "solutions" / "02_perceptron.ipynb"
    results = grade(tmp_path, [looping, solved], limits=Limits(seconds=4, memory_bytes=1 << 30))
    tests = by_name(results["looping"])
    assert tests["geometric_margin"]["score"] == 0 and "timed out" in tests["geometric_margin"]["output"]
    assert tests["pocket_perceptron"]["score"] == 7  # each question runs in its own process
    assert results["02_perceptron"]["score"] == 10


def test_the_time_limit_is_per_question(tmp_path):
    slow = submission(tmp_path, "02_perceptron", "slow", edits=[
        ("    return np.min(y * (X @ w + b)) / np.linalg.norm(w)", "    import time\n    time.sleep(0.4)\n    return np.min(y * (X @ w + b)) / np.linalg.norm(w)"),
        ("    w, b = np.zeros(X.shape[1]), 0.0\n", "    import time\n    time.sleep(0.4)\n    w, b = np.zeros(X.shape[1]), 0.0\n"),
    ])
    # Each question takes about 2 s of its 3 s; together they take longer than one limit.
    assert grade(tmp_path, [slow], limits=Limits(seconds=3, memory_bytes=1 << 30))["slow"]["score"] == 10


def test_a_question_can_have_a_time_limit_of_its_own():
    snippets = [("<cell 1>", "import time\n\ndef nap(seconds):\n    time.sleep(seconds)\n    return seconds")]
    long, short = (Task("nap", [(1.5,)], "nap(*args)", seconds=4), Task("nap", [(1.5,)], "nap(*args)", seconds=0.5))
    runs = run_submission(snippets, [long, short, long], Limits(seconds=1, memory_bytes=1 << 30))
    assert [run.cases[0].status for run in runs] == ["ok", "timeout", "ok"]
    assert "timed out after 0.5 s" in runs[1].verdict


def test_definitions_that_hang_fail_every_question_and_the_batch_goes_on(tmp_path):
    hanging = submission(tmp_path, "01_sigmoid", "hanging", extra_cells=["class Stuck:\n    while True:\n        pass"])
    solved = ROOT / "solutions" / "01_sigmoid.ipynb"
    results = grade(tmp_path, [hanging, solved], limits=Limits(seconds=3, memory_bytes=1 << 30))
    assert results["hanging"]["score"] == 0
    assert all("timed out" in test["output"] for test in results["hanging"]["tests"])
    assert results["01_sigmoid"]["score"] == 10


def test_a_memory_hog_gets_a_verdict(tmp_path):
    hog = submission(tmp_path, "02_perceptron", "hog", edits=[
        ("    return np.min(y * (X @ w + b)) / np.linalg.norm(w)", "    return np.ones(1 << 34)"),
        ("    w, b = np.zeros(X.shape[1]), 0.0\n", "    hoard = []\n    while True:\n        hoard.append(np.empty(10 ** 7))\n"),
    ])
    tests = by_name(grade(tmp_path, [hog])["hog"])
    for name in ("geometric_margin", "pocket_perceptron"):
        assert tests[name]["score"] == 0 and "out of memory" in tests[name]["output"]


def test_a_crash_or_an_exit_gets_a_verdict(tmp_path):
    crashing = submission(tmp_path, "02_perceptron", "crashing", edits=[
        ("    return np.min(y * (X @ w + b)) / np.linalg.norm(w)", "    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)"),
        ("    w, b = np.zeros(X.shape[1]), 0.0\n", "    import os\n    os._exit(0)\n"),
    ])
    tests = by_name(grade(tmp_path, [crashing])["crashing"])
    assert "crashed (SIGSEGV)" in tests["geometric_margin"]["output"]
    assert "ended before returning a result" in tests["pocket_perceptron"]["output"]
    assert tests["geometric_margin"]["score"] == tests["pocket_perceptron"]["score"] == 0


def test_files_that_are_not_notebooks_get_a_verdict(tmp_path):
    garbage = tmp_path / "garbage.ipynb"
    garbage.write_text("{ this is not json")
    missing = tmp_path / "missing.ipynb"
    solved = ROOT / "solutions" / "01_sigmoid.ipynb"
    results = grade(tmp_path, [ROOT / "README.md", garbage, missing, solved], exercise="01_sigmoid")
    assert "not a Jupyter notebook" in results["README"]["output"]
    assert "not a Jupyter notebook" in results["garbage"]["output"]
    assert "does not exist" in results["missing"]["output"]
    for name in ("README", "garbage", "missing"):
        assert results[name]["score"] == 0 and set(by_name(results[name])) == {q.name for q in EXERCISES["01_sigmoid"].questions}
    assert results["01_sigmoid"]["score"] == 10


@pytest.mark.parametrize("content", ['[1, 2]', '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
                                     '{"nbformat": 4, "nbformat_minor": 5, "metadata": {"nutshell": 3}, "cells": []}'])
def test_odd_json_gets_a_verdict(tmp_path, content):
    odd = tmp_path / "odd.ipynb"
    odd.write_text(content)
    result = grade(tmp_path, [odd])["odd"]
    assert result["score"] == 0 and result["output"].startswith("Not graded: ")


def test_a_notebook_without_exercise_metadata_needs_the_exercise_named(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def sigmoid(z):\n    return z")])
    path = tmp_path / "anonymous.ipynb"
    nbformat.write(notebook, str(path))
    assert "pass --exercise" in grade(tmp_path, [path])["anonymous"]["output"]
    assert "unknown exercise" in grade(tmp_path, [path], exercise="99_nothing")["anonymous"]["output"]


def test_a_renamed_or_deleted_function_gets_a_verdict(tmp_path):
    path = submission(tmp_path, "01_sigmoid", "renamed", edits=[("def sigmoid(z):", "def my_sigmoid(z):")],
                      drop_cells_with="def logistic_regression_step")
    tests = by_name(grade(tmp_path, [path])["renamed"])
    assert "`sigmoid` not found" in tests["sigmoid"]["output"]
    assert "NameError" in tests["binary_cross_entropy_with_logits"]["output"]  # it calls sigmoid
    assert "`logistic_regression_step` not found" in tests["logistic_regression_step"]["output"]
    assert all(test["score"] == 0 for test in tests.values())


def seed_with_mixed_strides(name: str) -> tuple[int, int]:
    """A seed whose conv2d_naive grading cases for submission ``name`` mix stride 1 and stride 2,
    and the stride-1 count."""
    for seed in range(100):
        strides = [args[3] for args in submission_cases(QUESTIONS["conv2d_naive"], seed, name)]
        if 0 < strides.count(1) < len(strides):
            return seed, strides.count(1)
    raise AssertionError("no seed mixes the strides")


def test_partial_credit_per_case_and_per_question(tmp_path):
    seed, stride_one_cases = seed_with_mixed_strides("ignores_stride")
    ignores_stride = submission(tmp_path, "04_conv", "ignores_stride", edits=[(
        "def conv2d_naive(x, w, b, stride=1, padding=0):",
        "def conv2d_naive(x, w, b, given_stride=1, padding=0):\n    stride = 1")])
    half_done = submission(tmp_path, "02_perceptron", "half_done",
                           edits=[("    w, b = np.zeros(X.shape[1]), 0.0\n", "    raise NotImplementedError\n")])
    results = grade(tmp_path, [ignores_stride, half_done], seed=seed)
    conv = by_name(results["ignores_stride"])
    assert conv["conv2d_naive"]["score"] == round(QUESTIONS["conv2d_naive"].points * stride_one_cases / 5, 2)
    assert conv["conv2d_naive"]["status"] == "failed" and "shape" in conv["conv2d_naive"]["output"]
    assert "Likely mistake: y has the size for stride 1" in conv["conv2d_naive"]["output"]
    assert conv["conv2d_backward_naive"]["score"] == QUESTIONS["conv2d_backward_naive"].points
    assert results["half_done"]["score"] == 3


def test_only_definitions_run_and_broken_cells_are_reported(tmp_path):
    path = submission(tmp_path, "01_sigmoid", "messy", extra_cells=[
        "while True:\n    pass",           # top-level code is not run by the grader
        "raise SystemExit('stop')",
        "def broken(:\n    pass",
        "%timeit sigmoid(np.ones(3))\nEPSILON = 1e-12",
    ])
    result = grade(tmp_path, [path], limits=Limits(seconds=5, memory_bytes=1 << 30))["messy"]
    assert result["score"] == 10
    assert "syntax error" in by_name(result)["sigmoid"]["output"]


def test_warnings_are_shown_but_not_scored(tmp_path):
    path = submission(tmp_path, "01_sigmoid", "naive", extra_cells=["def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"])
    tests = by_name(grade(tmp_path, [path])["naive"])
    assert tests["sigmoid"]["score"] == QUESTIONS["sigmoid"].points
    assert "RuntimeWarning: overflow" in tests["sigmoid"]["output"]


def test_a_naive_cross_entropy_loses_points_and_is_told_why(tmp_path):
    path = submission(tmp_path, "01_sigmoid", "naive_loss", extra_cells=[
        "def binary_cross_entropy_with_logits(z, y):\n    p = sigmoid(z)\n"
        "    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / len(y)"])
    test = by_name(grade(tmp_path, [path])["naive_loss"])["binary_cross_entropy_with_logits"]
    assert test["score"] < QUESTIONS["binary_cross_entropy_with_logits"].points
    assert "loss contains NaN or inf; dz is right" in test["output"]
    assert "Likely mistake: loss contains inf or NaN: log(sigmoid(z)) is log(0)" in test["output"]


def test_the_reference_answers_cannot_be_imported_by_the_submission(tmp_path):
    path = submission(tmp_path, "01_sigmoid", "copying", extra_cells=[
        "def sigmoid(z):\n    from nutshell_lib.grading.reference import sigmoid as answer\n    return answer(z)"])
    tests = by_name(grade(tmp_path, [path])["copying"])
    assert tests["sigmoid"]["score"] == 0
    assert "ImportError: nutshell_lib.grading cannot be imported" in tests["sigmoid"]["output"]
    assert "line 2: from nutshell_lib.grading.reference import sigmoid as answer" in tests["sigmoid"]["output"]


def test_grading_cases_depend_on_the_seed_and_differ_from_the_public_ones():
    question = QUESTIONS["lstm_cell_backward"]

    def shapes(seed, stream):
        return [[a.shape for a in flatten_outputs(args)] for args in draw_cases(question, seed, stream)]

    assert shapes(3, GRADING_STREAM) == shapes(3, GRADING_STREAM)
    assert shapes(3, GRADING_STREAM) != shapes(4, GRADING_STREAM)
    assert shapes(PUBLIC_SEED, PUBLIC_STREAM) != shapes(PUBLIC_SEED, GRADING_STREAM)


def test_the_command_writes_results_and_exits_zero_whatever_the_scores(tmp_path, capsys):
    out = tmp_path / "out"
    status = nutshell(["grade", str(ROOT / "exercises" / "02_perceptron.ipynb"), str(ROOT / "README.md"),
                       "--out", str(out), "--seed", "5", "--timeout", "15", "--jobs", "2",
                       *(["--no-sandbox"] if grading_sandbox() is NO_SANDBOX else [])])
    assert status == 0
    assert json.loads((out / "02_perceptron.json").read_text())["score"] == 0
    assert json.loads((out / "README.json").read_text())["tests"][0]["name"] == "notebook"
    with open(out / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["submission"], row["seed"]) for row in rows] == [("02_perceptron.ipynb", "5"), ("README.md", "5")]
    assert "graded 2 submission(s)" in capsys.readouterr().out


def test_results_files_get_unique_names():
    paths = [Path("a/hw.ipynb"), Path("b/hw.ipynb"), Path("c/hw_2.ipynb"), Path("hw.txt")]
    assert unique_names(paths) == ["hw", "hw_2", "hw_2_2", "hw_3"]


def test_a_backward_is_graded_on_the_cache_of_the_learners_own_forward(tmp_path):
    bad_cache = submission(tmp_path, "09_training", "bad_cache", edits=[
        ("return gamma * x_hat + beta, (x_hat, gamma, inv_std)",
         "return gamma * x_hat + beta, (x_hat, gamma, 2 * inv_std)")])
    tests = by_name(grade(tmp_path, [bad_cache])["bad_cache"])
    assert tests["batchnorm_forward"]["score"] == 2  # its output is right ...
    backward = tests["batchnorm_backward"]
    assert backward["score"] == 0 and "differs" in backward["output"]  # ... its cache is not


NEAREST_CLASS_MEAN = '''
def train_traffic_sign_classifier(X_train, y_train):
    flat = X_train.reshape(len(X_train), -1)
    means = np.stack([flat[y_train == k].mean(axis=0) for k in range(13)])
    return lambda X: ((X.reshape(len(X), 1, -1) - means) ** 2).sum(axis=2).argmin(axis=1)
'''
CONSTANT_LABELS = '''
def train_traffic_sign_classifier(X_train, y_train):
    return lambda X: np.zeros(len(X), dtype=int)
'''
SCORES = '''
def train_traffic_sign_classifier(X_train, y_train):
    return lambda X: np.zeros((len(X), 13))
'''


def test_the_classifier_is_scored_by_its_accuracy_on_held_out_signs(tmp_path):
    paths = [ROOT / "solutions" / "06_cnn.ipynb"] + [
        submission(tmp_path, "06_cnn", name, extra_cells=[source])
        for name, source in (("centroids", NEAREST_CLASS_MEAN), ("constant", CONSTANT_LABELS), ("scores", SCORES))]
    results = {name: by_name(result)["train_traffic_sign_classifier"]
               for name, result in grade(tmp_path, paths).items()}
    assert results["06_cnn"]["score"] == 4 and "4 of 4 reached" in results["06_cnn"]["output"]
    assert results["centroids"]["score"] == 1 and "1 of 4 reached" in results["centroids"]["output"]  # about 65%
    assert results["constant"]["score"] == 0 and "accuracy 7." in results["constant"]["output"]  # 1 in 13
    assert results["scores"]["score"] == 0 and "one label per image" in results["scores"]["output"]


def test_the_held_out_labels_never_reach_the_learners_process(tmp_path, monkeypatch):
    sent = []

    def recording_start_child(job_dir, snippets, questions, *args):
        sent.append(pickle.dumps([(task.name, task.expression, task.cases) for task in questions]))  # as in the job
        return start_child(job_dir, snippets, questions, *args)

    monkeypatch.setattr(run_student, "start_child", recording_start_child)
    path = submission(tmp_path, "06_cnn", "constant", extra_cells=[CONSTANT_LABELS])
    assert by_name(grade(tmp_path, [path])["constant"])["train_traffic_sign_classifier"]["score"] == 0
    split = QUESTIONS["train_traffic_sign_classifier"].split(submission_seed(SEED, "constant"), GRADING_STREAM)
    assert sent and all(split.X_test.tobytes() in job for job in sent)  # the images go in ...
    assert not any(split.y_test.tobytes() in job for job in sent)  # ... their labels never do
    assert split.X_train.shape == (3000, 3, 32, 32) and split.X_test.shape == (1000, 3, 32, 32)


def test_exercise_14_blank_gets_zero_and_overwritten_gradients_lose_only_the_backward_pass(tmp_path):
    overwriting = submission(tmp_path, "14_autograd", "overwriting",
                             edits=[("grads[k] = grads[k] + share", "grads[k] = share")])
    results = grade(tmp_path, [ROOT / "exercises" / "14_autograd.ipynb", overwriting])
    assert results["14_autograd"]["score"] == 0
    tests = by_name(results["overwriting"])
    assert tests["backward_pass"]["score"] < 2.5 and "FAILED" in tests["backward_pass"]["output"]
    assert all(test["status"] == "passed" for name, test in tests.items() if name != "backward_pass")
