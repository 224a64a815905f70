"""``nutshell grade``: grade a batch of submitted notebooks into Gradescope results files.

For every submission, the learner's functions run in a sandboxed child process (``sandbox``,
``run_student``) on cases drawn from the instructor's seed and the submission's name, so no two
submissions get the same cases; the outputs come back as plain arrays and are compared here with
the reference. Each question earns its points in proportion to the cases it
passes. Every submission gets a verdict, whatever is wrong with it, and the batch goes on.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import stat
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
from tqdm import tqdm

from .borrowed import borrowed_line, withheld, write_stub
from .child import flatten_outputs
from .feedback import NOT_IMPLEMENTED, advice_lines, judge_case, problem_line
from .notebook_source import Extracted, exercise_name, extract
from .questions import EXERCISES, GRADING_STREAM, Exercise, Question, TrainingTask, draw_cases
from .run_student import Isolation, Limits, QuestionRun, Task, run_submission
from .safe_text import printable, spreadsheet_cell
from .sandbox import (LIBRARY, SandboxMode, SandboxUnavailable, choose_mode, numba_cache_dirs,
                      user_mode_exposure)


MAX_NOTEBOOK_BYTES = 32 * 2 ** 20


@dataclass
class Submission:
    path: Path
    name: str                       # file stem, made unique within the batch
    exercise: Exercise | None = None
    code: Extracted | None = None
    problem: str = ""               # why it cannot be graded at all


@dataclass(frozen=True)
class Answers:
    cases: list[tuple]
    expected: list[list]            # the reference's flattened outputs, one list per case


def read_regular_file(path: Path, limit: int) -> str:
    """The text of ``path`` if it is a regular file of at most ``limit`` bytes: opened without
    blocking (a FIFO would block) and checked with fstat (a link to /dev/zero never ends)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ValueError("not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 2 ** 20} MiB")
    return data.decode("utf-8")


def load_submission(path: Path, name: str, exercise: str | None) -> Submission:
    submission = Submission(path, name)
    try:
        notebook = nbformat.reads(read_regular_file(path, MAX_NOTEBOOK_BYTES), as_version=4)
        submission.code = extract(notebook)
    except FileNotFoundError:
        submission.problem = f"{path} does not exist"
    except Exception as exc:  # nbformat raises many kinds for a file that is not a notebook
        submission.problem = f"{path.name} is not a Jupyter notebook ({type(exc).__name__}: {str(exc)[:200]})"
    else:
        exercise = exercise or exercise_name(notebook)
        if exercise is None:
            submission.problem = "the notebook does not say which exercise it is: pass --exercise"
    if exercise is not None:
        if exercise in EXERCISES:
            submission.exercise = EXERCISES[exercise]
        elif not submission.problem:
            submission.problem = f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}"
    return submission


def submission_seed(seed: int, name: str) -> int:
    """The seed of one submission's cases: the instructor's seed and the submission's name, so
    outputs copied from another submission answer other cases."""
    return int.from_bytes(hashlib.sha256(f"{seed}\0{name}".encode()).digest()[:8], "little")


def submission_cases(question: Question, seed: int, name: str) -> list[tuple]:
    return draw_cases(question, submission_seed(seed, name), GRADING_STREAM)


def reference_answers(question: Question | TrainingTask, seed: int, name: str) -> Answers:
    if isinstance(question, TrainingTask):  # the learner's process gets the inputs, never y_test
        split = question.split(submission_seed(seed, name), GRADING_STREAM)
        return Answers([(split.X_train, split.y_train, split.X_test)], [[split.y_test]])
    cases = submission_cases(question, seed, name)
    return Answers(cases, [flatten_outputs(question.reference(*copy.deepcopy(args))) for args in cases])


def score_training_task(task: TrainingTask, answers: Answers, run: QuestionRun) -> dict:
    """One Gradescope test: the share of the points for the accuracy thresholds reached."""
    lines = [f"While loading your definitions: {error}" for error in run.setup_errors]
    (case,), ((y_test,),) = run.cases, answers.expected
    score = 0.0
    if not run.found and not run.verdict:
        lines.append(f"function `{task.name}` not found: was it renamed, or its cell deleted?")
    elif case.status == "not_implemented":
        lines.append(f"{NOT_IMPLEMENTED}: `{task.name}` still raises NotImplementedError")
    elif case.status != "ok":
        lines.append(f"FAILED: {case.message}")
    else:
        line, score = accuracy_line(task, case.outputs, y_test)
        lines.append(line)
    if score < task.points:
        lines.append(f"Hint: {task.hint}")
    if run.printed:
        lines.append(f"Printed by your code (warnings are shown, never scored):\n{run.printed}")
    return {"name": task.name, "score": score, "max_score": task.points,
            "status": "passed" if score == task.points else "failed", "output": printable("\n".join(lines))}


def accuracy_line(task: TrainingTask, outputs: list, y_test) -> tuple[str, float]:
    """What the learner reads about the predicted labels, and the points they earn."""
    labels = outputs[0] if len(outputs) == 1 else None
    if labels is None or labels.shape != y_test.shape:
        shapes = ", ".join(str(output.shape) for output in outputs)
        return (f"FAILED: predict(X) must return one label per image, an array of shape {y_test.shape}; "
                f"it returned {shapes or 'nothing'}", 0.0)
    accuracy = float(np.mean(labels == y_test))
    thresholds = ", ".join(f"{threshold:.0%}" for threshold in task.thresholds)
    return (f"accuracy {accuracy:.1%} on {len(y_test):,} held-out traffic signs; thresholds {thresholds}: "
            f"{task.reached(accuracy)} of {len(task.thresholds)} reached", task.score(accuracy))


def score_question(question: Question, answers: Answers, run: QuestionRun, exercise: Exercise) -> dict:
    """One Gradescope test: points for the share of cases passed, and the story of each case."""
    if isinstance(question, TrainingTask):
        return score_training_task(question, answers, run)
    lines = [f"While loading your definitions: {error}" for error in run.setup_errors]
    verdicts = []
    borrowed = borrowed_line(question.name, exercise, [case.message for case in run.cases if case.status != "ok"]
                             + (run.setup_errors if any(case.status != "ok" for case in run.cases) else []))
    if not run.found and not run.verdict:
        lines.append(f"function `{question.name}` not found: was it renamed, or its cell deleted? The grader "
                     f"looks for `def {question.name}(...)` at the top level of a code cell.")
    elif all(case.status == "not_implemented" for case in run.cases):
        lines.append(f"{NOT_IMPLEMENTED}: `{question.name}` still raises NotImplementedError")
    else:
        for number, (args, expected, case) in enumerate(zip(answers.cases, answers.expected, run.cases), start=1):
            if case.status != "ok":
                lines.append(problem_line(number, case.message))
                continue
            verdicts.append(judge_case(question, number, args, expected, case.outputs))
            lines.append(verdicts[-1].line)
        if run.verdict:
            lines.append(f"The run stopped: {run.verdict}.")
    passed = sum(verdict.passed for verdict in verdicts)
    if borrowed:
        lines.append(borrowed)
        passed = 0
    lines += advice_lines(question, passed, verdicts)
    if run.printed:
        lines.append(f"Printed by your code (warnings are shown, never scored):\n{run.printed}")
    score = round(question.points * passed / question.n_cases, 2)
    return {"name": question.name, "score": score, "max_score": question.points,
            "status": "passed" if passed == question.n_cases else "failed", "output": printable("\n".join(lines))}


def unscored_tests(submission: Submission) -> list[dict]:
    """Zero for every question (or one zero-point test when the exercise is unknown)."""
    questions = submission.exercise.questions if submission.exercise else ()
    problem = printable(submission.problem)
    tests = [{"name": q.name, "score": 0.0, "max_score": q.points, "status": "failed",
              "output": problem} for q in questions]
    return tests or [{"name": "notebook", "score": 0.0, "max_score": 0.0, "status": "failed",
                      "output": problem}]


def results_json(submission: Submission, tests: list[dict], seconds: float) -> dict:
    """Gradescope's autograder results format."""
    score = round(sum(test["score"] for test in tests), 2)
    if submission.problem:
        output = printable(f"Not graded: {submission.problem}")
    else:
        problems = [f"{test['name']}: {test['score']:g}/{test['max_score']:g}" for test in tests]
        output = f"Exercise {submission.exercise.name}: {score:g}/{submission.exercise.max_score:g} ({'; '.join(problems)})"
    return {"score": score, "execution_time": round(seconds, 2), "output": output, "tests": tests}


def unique_names(paths: list[Path]) -> list[str]:
    """File stems, with _2, _3... added where two submissions would write the same results file."""
    names: list[str] = []
    for path in paths:
        name, count = path.stem, 1
        while name in names:
            count += 1
            name = f"{path.stem}_{count}"
        names.append(name)
    return names


def warm_kernels(submissions: list[Submission]) -> tuple:
    """Compile the library's kernels once, here, so children that call them load them from cache;
    returns the cache folders, of which each such child gets a private copy."""
    if any(s.exercise and s.exercise.uses_kernels and not s.problem for s in submissions):
        from ..warmup import compile_all_kernels, several_cores

        compile_all_kernels(in_child_processes=several_cores())
        return tuple(numba_cache_dirs())
    return ()


def isolation_for(exercise: Exercise, mode: SandboxMode, caches: tuple, stubs: Path) -> Isolation:
    """What a child of ``exercise`` sees as nutshell_lib: the library (with the kernel caches when
    the exercise uses them), or a stand-in when the exercise asks for the library's own functions."""
    if withheld(exercise):
        stub = stubs / exercise.name / "nutshell_lib"
        if not stub.exists():
            write_stub(exercise, stub.parent)
        return Isolation(mode, stub)
    return Isolation(mode, LIBRARY, caches if exercise.uses_kernels else ())


def grade_one(submission: Submission, seed: int, limits: Limits, isolation: Isolation) -> tuple[list[dict], float]:
    """Run and score one submission; whatever goes wrong in the grader becomes its verdict."""
    start = time.perf_counter()
    questions = submission.exercise.questions
    try:
        answers = {q.name: reference_answers(q, seed, submission.name) for q in questions}
        tasks = [Task(q.name, answers[q.name].cases, q.expression, q.seconds) for q in questions]
        runs = run_submission(submission.code.snippets, tasks, limits, isolation)
        tests = [score_question(q, answers[q.name], r, submission.exercise) for q, r in zip(questions, runs)]
    except Exception as exc:  # a bug of the grader's, or a submission it did not foresee: this one only
        submission.problem = f"the grader failed on this submission ({type(exc).__name__}: {str(exc)[:300]})"
        return unscored_tests(submission), time.perf_counter() - start
    for test in tests:  # a skipped cell may be why a function is missing
        test["output"] = printable("\n".join(submission.code.problems + [test["output"]]))
    return tests, time.perf_counter() - start


def grade_batch(paths: list[Path], out_dir: Path, *, seed: int, exercise: str | None = None,
                limits: Limits = Limits(), jobs: int = 2, sandbox: SandboxMode | None = None,
                progress: bool = False) -> list[dict]:
    """Grade every submission; write ``out_dir/<name>.json`` as each is done, then ``out_dir/summary.csv``.

    ``sandbox`` defaults to the strongest that works here (``SandboxUnavailable`` when none does).
    """
    sandbox = sandbox or choose_mode()
    out_dir.mkdir(parents=True, exist_ok=True)
    submissions = [load_submission(Path(p), n, exercise) for p, n in zip(paths, unique_names(list(map(Path, paths))))]
    gradable = [s for s in submissions if not s.problem]
    caches = warm_kernels(gradable)
    outcomes: dict[str, tuple[list[dict], float]] = {s.name: (unscored_tests(s), 0.0) for s in submissions if s.problem}
    bar = tqdm(total=len(submissions), disable=not progress, unit="submission", file=sys.stderr)
    failed = 0

    def finish(submission: Submission, outcome: tuple[list[dict], float]) -> None:
        nonlocal failed
        outcomes[submission.name] = outcome
        result = results_json(submission, *outcome)
        (out_dir / f"{submission.name}.json").write_text(json.dumps(result, indent=2) + "\n")
        failed += bool(submission.problem)
        bar.update()
        bar.set_postfix(graded=bar.n, failed=failed, refresh=False)

    with tempfile.TemporaryDirectory(prefix="nutshell-stubs-") as stubs, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        os.chmod(stubs, 0o755)  # the stand-in library is no secret, and a child of its own user must read it
        for submission in submissions:
            if submission.problem:
                finish(submission, outcomes[submission.name])
        futures = {pool.submit(grade_one, s, seed, limits, isolation_for(s.exercise, sandbox, caches, Path(stubs))): s
                   for s in gradable}
        for future in as_completed(futures):
            finish(futures[future], future.result())
    bar.close()
    results = [results_json(s, *outcomes[s.name]) for s in submissions]
    write_summary(out_dir / "summary.csv", submissions, results, seed)
    return results


def write_summary(path: Path, submissions: list[Submission], results: list[dict], seed: int) -> None:
    question_names = list(dict.fromkeys(test["name"] for result in results for test in result["tests"]))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "exercise", "score", "max_score", *question_names, "seed", "problem"])
        for submission, result in zip(submissions, results):
            scores = {test["name"]: test["score"] for test in result["tests"]}
            max_score = sum(test["max_score"] for test in result["tests"])
            writer.writerow([spreadsheet_cell(value) for value in (
                submission.path.name, submission.exercise.name if submission.exercise else "", result["score"],
                max_score, *(scores.get(name, "") for name in question_names), seed, submission.problem)])


def main(args) -> int:
    """Exit status 0 whenever grading ran, whatever the scores."""
    import secrets

    seed = args.seed if args.seed is not None else secrets.randbelow(2 ** 31)
    if args.seed is None:
        print(f"grading seed {seed} (pass --seed {seed} to grade again with the same cases)")
    try:
        sandbox = choose_mode(args.no_sandbox)
    except SandboxUnavailable as exc:
        print(f"nutshell grade: {exc}", file=sys.stderr)
        return 2
    if sandbox.name in ("none", "user"):
        print(f"WARNING: {sandbox.describe()}; see docs/instructors.md", file=sys.stderr)
    if sandbox.name == "user" and user_mode_exposure():
        print(f"WARNING: {user_mode_exposure()}", file=sys.stderr)
    print(f"sandbox: {sandbox.describe()}")
    limits = Limits(seconds=args.timeout, memory_bytes=args.memory_mb * 2 ** 20)
    start = time.perf_counter()
    results = grade_batch([Path(p) for p in args.submissions], Path(args.out), seed=seed, exercise=args.exercise,
                          limits=limits, jobs=args.jobs, sandbox=sandbox, progress=not args.quiet)
    for path, result in zip(args.submissions, results):
        print(f"{result['score']:>6g}  {printable(path, lines=False)}")
    print(f"graded {len(results)} submission(s) in {time.perf_counter() - start:.1f} s; "
          f"results in {args.out}/ (summary.csv)")
    return 0
