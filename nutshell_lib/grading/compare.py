"""Comparing a learner's outputs with the reference: shapes first, then values."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    passed: bool
    message: str                  # empty when passed; otherwise what is wrong, in one line
    max_error: float = np.nan     # largest absolute difference over all outputs
    relative_error: float = np.nan  # largest |a - e| / (|a| + |e|), the gradient-check measure


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """CS231n's relative error: elementwise |a - e| / max(1e-8, |a| + |e|), the largest one."""
    if actual.size == 0:
        return 0.0
    return float(np.max(np.abs(actual - expected) / np.maximum(1e-8, np.abs(actual) + np.abs(expected))))


def compare(expected: list[np.ndarray], actual: list[np.ndarray], *, rtol: float, atol: float) -> Comparison:
    """Pass when there are as many outputs, each with the expected shape, and every element
    satisfies |actual - expected| <= atol + rtol * |expected| (exactly equal where the reference
    gives integers: counts, sizes). A size-1 answer is accepted for a scalar."""
    if len(actual) != len(expected):
        return Comparison(False, f"returned {len(actual)} array(s), expected {len(expected)}")
    max_error = rel_error = 0.0
    failures = []
    for index, (e, a) in enumerate(zip(expected, actual)):
        label = f"output {index}" if len(expected) > 1 else "the output"
        if a.dtype.kind not in "biuf":
            return Comparison(False, f"{label} has dtype {a.dtype}, expected numbers")
        if a.shape != e.shape and not (e.ndim == 0 and a.size == 1):
            return Comparison(False, f"{label} has shape {a.shape}, expected {e.shape}")
        exact = e.dtype.kind in "biu"  # counts and sizes must be exactly right
        a = a.astype(np.float64).reshape(e.shape)
        e = e.astype(np.float64)
        if not np.all(np.isfinite(a)):
            failures.append(f"{label} contains NaN or inf")
            max_error = rel_error = np.inf
            continue
        error = np.abs(a - e)
        max_error = max(max_error, float(error.max(initial=0.0)))
        rel_error = max(rel_error, relative_error(a, e))
        if np.any(error > (0.0 if exact else atol + rtol * np.abs(e))):
            failures.append(f"{label} differs")
    return Comparison(not failures, "; ".join(failures), max_error, rel_error)
