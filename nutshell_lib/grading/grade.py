"""``nutshell grade``: grade a batch of submitted notebooks into Gradescope results files.

For every submission, the learner's functions run in a child process on cases drawn from the
instructor's seed (``run_student``); the outputs come back as plain arrays and are
compared here with the reference. Each question earns its points in proportion to the cases it
passes. Every submission gets a verdict, whatever is wrong with it, and the batch goes on.
"""
from __future__ import annotations

import copy
import csv
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .child import flatten_outputs
from .feedback import NOT_IMPLEMENTED, advice_lines, judge_case, problem_line
from .notebook_source import Extracted, exercise_name, extract
from .questions import EXERCISES, GRADING_STREAM, Exercise, Question, draw_cases
from .run_student import Limits, QuestionRun, run_submission


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


def load_submission(path: Path, name: str, exercise: str | None) -> Submission:
    submission = Submission(path, name)
    try:
        notebook = nbformat.read(str(path), as_version=4)
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


def reference_answers(question: Question, seed: int) -> Answers:
    cases = draw_cases(question, seed, GRADING_STREAM)
    return Answers(cases, [flatten_outputs(question.reference(*copy.deepcopy(args))) for args in cases])


def score_question(question: Question, answers: Answers, run: QuestionRun) -> dict:
    """One Gradescope test: points for the share of cases passed, and the story of each case."""
    lines = [f"While loading your definitions: {error}" for error in run.setup_errors]
    verdicts = []
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
    lines += advice_lines(question, passed, verdicts)
    if run.printed:
        lines.append(f"Printed by your code (warnings are shown, never scored):\n{run.printed}")
    score = round(question.points * passed / question.n_cases, 2)
    return {"name": question.name, "score": score, "max_score": question.points,
            "status": "passed" if passed == question.n_cases else "failed", "output": "\n".join(lines)}


def unscored_tests(submission: Submission) -> list[dict]:
    """Zero for every question (or one zero-point test when the exercise is unknown)."""
    questions = submission.exercise.questions if submission.exercise else ()
    tests = [{"name": q.name, "score": 0.0, "max_score": q.points, "status": "failed",
              "output": submission.problem} for q in questions]
    return tests or [{"name": "notebook", "score": 0.0, "max_score": 0.0, "status": "failed",
                      "output": submission.problem}]


def results_json(submission: Submission, tests: list[dict], seconds: float) -> dict:
    """Gradescope's autograder results format."""
    score = round(sum(test["score"] for test in tests), 2)
    if submission.problem:
        output = f"Not graded: {submission.problem}"
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


def warm_kernels(submissions: list[Submission]) -> None:
    """Compile the library's kernels once, here, so children that call them load them from cache."""
    if any(s.exercise and s.exercise.uses_kernels and not s.problem for s in submissions):
        from ..warmup import compile_all_kernels

        compile_all_kernels()


def grade_batch(paths: list[Path], out_dir: Path, *, seed: int, exercise: str | None = None,
                limits: Limits = Limits(), jobs: int = 2) -> list[dict]:
    """Grade every submission; write ``out_dir/<name>.json`` each and ``out_dir/summary.csv``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    submissions = [load_submission(Path(p), n, exercise) for p, n in zip(paths, unique_names(list(map(Path, paths))))]
    gradable = [s for s in submissions if not s.problem]
    asked = {q.name: q for s in gradable for q in s.exercise.questions}
    answers = {name: reference_answers(q, seed) for name, q in asked.items()}
    warm_kernels(gradable)

    def run(submission):
        start = time.perf_counter()
        questions = submission.exercise.questions
        runs = run_submission(submission.code.snippets, [(q.name, answers[q.name].cases) for q in questions], limits)
        tests = [score_question(q, answers[q.name], r) for q, r in zip(questions, runs)]
        return tests, time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        outcomes = dict(zip((s.name for s in gradable), pool.map(run, gradable)))
    results = []
    for submission in submissions:
        if submission.problem:
            tests, seconds = unscored_tests(submission), 0.0
        else:
            tests, seconds = outcomes[submission.name]
            for test in tests:  # a skipped cell may be why a function is missing
                test["output"] = "\n".join(submission.code.problems + [test["output"]])
        result = results_json(submission, tests, seconds)
        (out_dir / f"{submission.name}.json").write_text(json.dumps(result, indent=2) + "\n")
        results.append(result)
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
            writer.writerow([submission.path.name, submission.exercise.name if submission.exercise else "",
                             result["score"], max_score, *(scores.get(name, "") for name in question_names),
                             seed, submission.problem])


def main(args) -> int:
    """Exit status 0 whenever grading ran, whatever the scores."""
    import secrets

    seed = args.seed if args.seed is not None else secrets.randbelow(2 ** 31)
    if args.seed is None:
        print(f"grading seed {seed} (pass --seed {seed} to grade again with the same cases)")
    limits = Limits(seconds=args.timeout, memory_bytes=args.memory_mb * 2 ** 20)
    start = time.perf_counter()
    results = grade_batch([Path(p) for p in args.submissions], Path(args.out), seed=seed,
                          exercise=args.exercise, limits=limits, jobs=args.jobs)
    for path, result in zip(args.submissions, results):
        print(f"{result['score']:>6g}  {path}")
    print(f"graded {len(results)} submission(s) in {time.perf_counter() - start:.1f} s; "
          f"results in {args.out}/ (summary.csv)")
    return 0
