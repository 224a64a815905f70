"""The words a learner reads about one case, shared by ``check`` and ``nutshell grade``."""
from __future__ import annotations

from .compare import Comparison

NOT_IMPLEMENTED = "not implemented yet"


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
