"""`check` (instant feedback in a notebook) and the rule for which notebook code the grader runs."""
import numpy as np
import nbformat
import pytest

from nutshell_lib.grading import check
from nutshell_lib.grading import reference
from nutshell_lib.grading.child import flatten_outputs
from nutshell_lib.grading.notebook_source import extract
from nutshell_lib.grading.questions import PUBLIC_SEED, PUBLIC_STREAM, QUESTIONS, Question, draw_cases


@pytest.mark.parametrize("name", sorted(name for name, question in QUESTIONS.items()
                                        if isinstance(question, Question) and not question.call))
def test_the_reference_passes_and_a_slightly_wrong_answer_fails(name, capsys):
    question = QUESTIONS[name]
    assert check(name, question.reference)
    assert f"{question.n_cases}/{question.n_cases} cases passed" in capsys.readouterr().out

    def off_by_a_little(*args):
        outputs = flatten_outputs(question.reference(*args))
        outputs[-1] = outputs[-1] + 1e-3
        return tuple(outputs) if len(outputs) > 1 else outputs[0]

    assert not check(name, off_by_a_little)
    printed = capsys.readouterr().out
    assert f"0/{question.n_cases} cases passed" in printed and "largest error 0.001" in printed
    assert "Hint: " + question.hint in printed
    assert ("relative error" in printed) == question.gradient


def batchnorm_forward(x, gamma, beta, eps=1e-5):  # a learner's pair, at module level as in a notebook
    return reference.batchnorm_forward(x, gamma, beta, eps), {"inputs": (x, gamma, beta, eps)}


def batchnorm_backward(dout, cache):
    return reference.batchnorm_backward(dout, *cache["inputs"])


def test_a_backward_is_checked_on_the_cache_of_the_learners_own_forward(capsys):
    assert check("batchnorm_forward", batchnorm_forward)  # only `out` is compared; the cache is the learner's
    assert check("batchnorm_backward", batchnorm_backward)
    assert not check("batchnorm_backward", lambda dout, cache: batchnorm_backward(2 * dout, cache))
    assert "FAILED" in capsys.readouterr().out


def nearest_class_mean(X_train, y_train):
    flat = X_train.reshape(len(X_train), -1)
    means = np.stack([flat[y_train == k].mean(axis=0) for k in np.unique(y_train)])
    return lambda X: ((X.reshape(len(X), 1, -1) - means) ** 2).sum(axis=2).argmin(axis=1)


def test_a_classifier_is_checked_by_its_accuracy_on_the_public_split(capsys):
    assert not check("train_traffic_sign_classifier", nearest_class_mean)
    printed = capsys.readouterr().out
    assert "on 500 held-out signs, trained on 2,000" in printed and "1 of 4 reached" in printed and "Hint" in printed
    assert not check("train_traffic_sign_classifier", lambda X, y: lambda X_new: np.zeros((len(X_new), 13)))
    assert "one label per image" in capsys.readouterr().out


def test_unsolved_is_reported_not_raised(capsys):
    def sigmoid(z):
        raise NotImplementedError("write `sigmoid` here")

    assert not check("sigmoid", sigmoid)
    assert "sigmoid: not implemented yet" in capsys.readouterr().out


def test_errors_and_wrong_shapes_are_explained_per_case(capsys):
    assert not check("sigmoid", lambda z: 1 / 0)
    assert "case 1: FAILED: ZeroDivisionError: division by zero" in capsys.readouterr().out
    assert not check("dense_tanh_backward", lambda dout, x, w, b: (dout @ w.T, np.zeros((1, 1)), dout.sum(axis=0)))
    assert "dw has shape (1, 1), expected" in capsys.readouterr().out
    assert not check("pocket_perceptron", lambda X, y, epochs, lr: (np.zeros(X.shape[1]), 0.0))
    assert "returned 2 array(s), expected 3 (w, b and errors)" in capsys.readouterr().out
    assert not check("sigmoid", lambda z: None)
    assert "returned NoneType, not numbers or arrays" in capsys.readouterr().out


def test_the_result_is_true_only_when_every_case_passes_and_a_notebook_shows_nothing_for_it(capsys):
    from IPython.core.formatters import DisplayFormatter

    passed = check("sigmoid", QUESTIONS["sigmoid"].reference)
    failed = check("sigmoid", lambda z: np.zeros(np.shape(z)))
    assert passed and not failed and (passed.passed, failed.passed, failed.cases) == (5, 0, 5)
    assert repr(failed) == "CheckResult('sigmoid': 0/5 cases passed)"
    assert DisplayFormatter().format(passed) == ({}, {})  # no Out[...] under the printed report


def test_a_scalar_may_come_back_as_a_size_one_array(capsys):
    assert check("conv_output_size", lambda n, k, s, p: np.array([(n + 2 * p - k) // s + 1]))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="name must be one of"):
        check("sigmoidd", lambda z: z)
    with pytest.raises(TypeError, match="function must be"):
        check("sigmoid", "sigmoid")


def code_notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]
                                    + [nbformat.v4.new_markdown_cell("def not_code(): pass")])


def test_only_imports_definitions_and_literal_constants_are_kept():
    notebook = code_notebook(
        "import numpy as np\nfrom nutshell_lib.grading import check\nimport nutshell_lib.grading.reference as r\n"
        "from nutshell_lib import grading\n%matplotlib inline\n!pip install nothing",
        "RATE = 0.5\nSIZES = (1, 2)\ndata = np.ones(3)\nprint(data)\nfor i in range(3):\n    pass",
        "@staticmethod\ndef f(x):\n    return x\n\nclass Model:\n    pass\ncheck('f', f)",
        "def broken(:\n    pass",
    )
    extracted = extract(notebook)
    kept = [source.strip() for _, source in extracted.snippets]
    assert kept == ["import numpy as np", "RATE = 0.5", "SIZES = (1, 2)",
                    "@staticmethod\ndef f(x):\n    return x", "class Model:\n    pass"]
    assert [label for label, _ in extracted.snippets] == ["<cell 1>", "<cell 2>", "<cell 2>", "<cell 3>", "<cell 3>"]
    assert extracted.problems == ["code cell 4 has a syntax error (line 1: invalid syntax); it was skipped"]


def test_kept_statements_keep_their_line_numbers():
    source = "x = compute()\n\ndef f():\n    return 1 / 0"
    (label, snippet), = extract(code_notebook(source)).snippets
    namespace = {}
    exec(compile(snippet, label, "exec"), namespace)
    with pytest.raises(ZeroDivisionError) as info:
        namespace["f"]()
    assert info.traceback[-1].lineno + 1 == 4  # pytest counts lines from 0


def test_outputs_are_counted_the_same_way_on_both_sides():
    a, b = np.ones((2, 3)), np.zeros((2, 3))
    assert [o.shape for o in flatten_outputs((a, b))] == [(2, 3), (2, 3)]  # same shapes stay apart
    assert [o.shape for o in flatten_outputs((a, 1.5))] == [(2, 3), ()]
    assert [o.shape for o in flatten_outputs([(a, b), a])] == [(2, 3)] * 3
    scalars = [flatten_outputs(pair) for pair in ((0.5, 2.0), (np.float64(0.5), np.float64(2.0)),
                                                     (np.array(0.5), np.array(2.0)))]
    assert all([o.shape for o in outputs] == [(), ()] for outputs in scalars)  # (loss, norm) is two, however typed
    assert [o.tolist() for o in flatten_outputs((2, 3, 4))] == [[2, 3, 4]]  # a shape is one output
    assert [o.tolist() for o in flatten_outputs((np.int64(2), 3))] == [[2, 3]]
    assert [o.tolist() for o in flatten_outputs([(1, 2), (3, 4, 5)])] == [[1, 2], [3, 4, 5]]  # ragged shapes


@pytest.mark.parametrize("name", sorted(name for name, question in QUESTIONS.items()
                                        if isinstance(question, Question) and question.outputs))
def test_every_named_output_is_one_output_of_the_reference(name):
    question = QUESTIONS[name]
    for args in draw_cases(question, PUBLIC_SEED, PUBLIC_STREAM):
        assert len(flatten_outputs(question.reference(*args))) == len(question.outputs)
