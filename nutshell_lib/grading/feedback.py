"""The words a learner reads about one question, shared by ``check`` and ``nutshell grade``."""
from __future__ import annotations

from dataclasses import dataclass

from .compare import Comparison, compare

NOT_IMPLEMENTED = "not implemented yet"


@dataclass(frozen=True)
class CaseVerdict:
    passed: bool
    line: str                     # "case 2: FAILED: dw differs; dx and db are right (...)"
    diagnosis: str | None = None  # the common mistake the wrong answer looks like, if recognised


def case_line(number: int, comparison: Comparison, gradient: bool) -> str:
    errors = f"largest error {comparison.max_error:.2g}"
    if gradient:
        errors += f", relative error {comparison.relative_error:.2g}"
    if comparison.passed:
        return f"case {number}: passed ({errors})"
    if comparison.max_error == comparison.max_error:  # not NaN: the values could be compared
        return f"case {number}: FAILED: {comparison.message} ({errors})"
    return f"case {number}: FAILED: {comparison.message}"


def problem_line(number: int, message: str) -> str:
    return f"case {number}: {message}" if message == NOT_IMPLEMENTED else f"case {number}: FAILED: {message}"


def judge_case(question, number: int, args: tuple, expected: list, actual: list) -> CaseVerdict:
    """Compare one case's outputs with the reference and, when they are wrong, ask the question's
    ``diagnose`` which common mistake they look like. It gets both outputs keyed by the
    question's output names, so when the learner returned a different number of arrays there is
    nothing to name and no diagnosis."""
    comparison = compare(expected, actual, rtol=question.rtol, atol=question.atol, names=question.outputs)
    diagnosis = None
    names = question.outputs
    if not comparison.passed and question.diagnose is not None and len(expected) == len(actual) == len(names):
        diagnosis = question.diagnose(args, dict(zip(names, expected)), dict(zip(names, actual)))
    return CaseVerdict(comparison.passed, case_line(number, comparison, question.gradient), diagnosis)


def advice_lines(question, passed: int, verdicts: list[CaseVerdict]) -> list[str]:
    """After the cases, unless all ``passed``: each recognised mistake once, then the hint."""
    if passed == question.n_cases:
        return []
    diagnoses = dict.fromkeys(verdict.diagnosis for verdict in verdicts if verdict.diagnosis)
    return [f"Likely mistake: {diagnosis}" for diagnosis in diagnoses] + [f"Hint: {question.hint}"]
