"""``check(name, function)``: instant feedback inside an exercise notebook.

It runs in the learner's own process on the public cases, so it is a help, not a judge:
``nutshell grade`` re-runs everything on fresh cases in a separate process.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np

from .child import flatten_outputs, learner_call
from .feedback import NOT_IMPLEMENTED, advice_lines, judge_case, problem_line
from .questions import PUBLIC_SEED, PUBLIC_STREAM, QUESTIONS, TrainingTask, draw_cases


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: true when every case passed (``if check(...):``, ``assert check(...)``).

    The report is printed by ``check`` itself, so a notebook shows nothing more for this value
    when it ends a cell (no stray ``True`` or ``False`` under the report).
    """
    name: str
    passed: int
    cases: int

    def __bool__(self) -> bool:
        return self.passed == self.cases

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}: {self.passed}/{self.cases} cases passed)"

    def _ipython_display_(self) -> None:
        """IPython calls this instead of showing the repr; the printed report says it all."""


def check(name: str, function, *, seed: int = PUBLIC_SEED) -> CheckResult:
    """Test ``function`` against the reference for question ``name``; print one line per case,
    the common mistake a wrong answer looks like (when one is recognised) and a hint when
    something fails. The result is true when every case passes.

    An unsolved function (one that raises NotImplementedError) is reported, not raised, so a
    notebook runs from top to bottom before it is solved.
    """
    if name not in QUESTIONS:
        raise ValueError(f"name must be one of {sorted(QUESTIONS)}, got {name!r}")
    if not callable(function):
        raise TypeError(f"function must be the function you wrote, got {type(function).__name__}")
    question = QUESTIONS[name]
    if isinstance(question, TrainingTask):
        return check_training(question, function, seed)
    # The question's call may use the learner's other functions (a backward pass, the cache of its forward).
    call = learner_call({**getattr(function, "__globals__", {}), name: function}, question.expression)
    lines, verdicts = [], []
    for number, args in enumerate(draw_cases(question, seed, PUBLIC_STREAM), start=1):
        expected = flatten_outputs(question.reference(*copy.deepcopy(args)))
        try:
            actual = flatten_outputs(call(*copy.deepcopy(args)))
        except NotImplementedError:
            print(f"{name}: {NOT_IMPLEMENTED} (replace the `raise NotImplementedError` line with your code)")
            return CheckResult(name, 0, question.n_cases)
        except Exception as exc:  # the learner's bug: report it and go on with the next case
            lines.append(problem_line(number, f"{type(exc).__name__}: {exc}"))
            continue
        verdicts.append(judge_case(question, number, args, expected, actual))
        lines.append(verdicts[-1].line)
    passed = sum(verdict.passed for verdict in verdicts)
    print(f"{name}: {passed}/{question.n_cases} cases passed")
    print("\n".join("  " + line for line in lines + advice_lines(question, passed, verdicts)))
    return CheckResult(name, passed, question.n_cases)


def check_training(task: TrainingTask, function, seed: int) -> CheckResult:
    """Train on the public split, predict its held-out part, and report the accuracy and the
    thresholds reached (its "cases"). True when all are reached. An error in the learner's training code is not
    caught: its traceback, in the learner's own notebook, is the most useful feedback."""
    split = task.split(seed, PUBLIC_STREAM)
    start = time.perf_counter()
    try:
        labels = np.asarray(function(split.X_train, split.y_train)(split.X_test))
    except NotImplementedError:
        print(f"{task.name}: {NOT_IMPLEMENTED} (replace the `raise NotImplementedError` line with your code)")
        return CheckResult(task.name, 0, len(task.thresholds))
    seconds = time.perf_counter() - start
    thresholds = ", ".join(f"{threshold:.0%}" for threshold in task.thresholds)
    if labels.shape != split.y_test.shape:
        print(f"{task.name}: FAILED: predict(X) must return one label per image, shape {split.y_test.shape}; "
              f"it returned shape {labels.shape}")
        return CheckResult(task.name, 0, len(task.thresholds))
    accuracy = float(np.mean(labels == split.y_test))
    reached = task.reached(accuracy)
    print(f"{task.name}: accuracy {accuracy:.1%} on {len(split.y_test):,} held-out signs, trained on "
          f"{len(split.y_train):,} in {seconds:.0f} s")
    print(f"  thresholds {thresholds}: {reached} of {len(task.thresholds)} reached. The grader trains your "
          f"function on {task.grading_sizes[0]:,} new signs and tests it on {task.grading_sizes[1]:,} that "
          f"you never see, within {task.seconds:.0f} s on one core.")
    if reached < len(task.thresholds):
        print(f"  Hint: {task.hint}")
    return CheckResult(task.name, reached, len(task.thresholds))
