"""``check(name, function)``: instant feedback inside an exercise notebook.

It runs in the learner's own process on the public cases, so it is a help, not a judge:
``nutshell grade`` re-runs everything on fresh cases in a separate process.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from .child import flatten_outputs
from .feedback import NOT_IMPLEMENTED, advice_lines, judge_case, problem_line
from .questions import PUBLIC_SEED, PUBLIC_STREAM, QUESTIONS, draw_cases


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
    lines, verdicts = [], []
    for number, args in enumerate(draw_cases(question, seed, PUBLIC_STREAM), start=1):
        expected = flatten_outputs(question.reference(*copy.deepcopy(args)))
        try:
            actual = flatten_outputs(function(*copy.deepcopy(args)))
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
