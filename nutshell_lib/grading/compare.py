"""Comparing a learner's outputs with the reference, output by output: shapes first, then values."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    passed: bool
    message: str                  # empty when passed; otherwise what is wrong, in one line
    max_error: float = np.nan     # largest absolute difference over all outputs
    relative_error: float = np.nan  # largest |a - e| / (|a| + |e|), the gradient-check measure
    wrong: tuple[str, ...] = ()   # the labels of the outputs that are wrong


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """CS231n's relative error: elementwise |a - e| / max(1e-8, |a| + |e|), the largest one."""
    if actual.size == 0:
        return 0.0
    return float(np.max(np.abs(actual - expected) / np.maximum(1e-8, np.abs(actual) + np.abs(expected))))


def output_labels(count: int, names: tuple[str, ...] = ()) -> list[str]:
    """What feedback calls each output: its name when the question names as many as there are."""
    if len(names) == count:
        return list(names)
    return [f"output {index}" for index in range(count)] if count > 1 else ["the output"]


def join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def compare(expected: list[np.ndarray], actual: list[np.ndarray], *, rtol: float, atol: float,
            names: tuple[str, ...] = ()) -> Comparison:
    """Pass when there are as many outputs, each with the expected shape, and every element
    satisfies |actual - expected| <= atol + rtol * |expected| (exactly equal where the reference
    gives integers: counts, sizes). A size-1 answer is accepted for a scalar.

    Every output is judged on its own; the message names the wrong ones (``names`` labels them,
    ``("dx", "dw", "db")``) and, when some are right, says which. The errors cover the outputs
    whose values could be compared; they are NaN when a shape or kind is wrong.
    """
    if len(actual) != len(expected):
        described = f" ({join_words(names)})" if len(names) == len(expected) else ""
        return Comparison(False, f"returned {len(actual)} array(s), expected {len(expected)}{described}")
    labels = output_labels(len(expected), names)
    max_error = rel_error = 0.0
    problems, wrong_values, wrong = [], [], []
    comparable = True  # every output has the expected kind and shape
    for label, e, a in zip(labels, expected, actual):
        if a.dtype.kind not in "biuf":
            problems.append(f"{label} has dtype {a.dtype}, expected numbers")
        elif a.shape != e.shape and not (e.ndim == 0 and a.size == 1):
            problems.append(f"{label} has shape {a.shape}, expected {e.shape}")
        else:
            exact = e.dtype.kind in "biu"  # counts and sizes must be exactly right
            a = a.astype(np.float64).reshape(e.shape)
            e = e.astype(np.float64)
            if not np.all(np.isfinite(a)):
                problems.append(f"{label} contains NaN or inf")
                max_error = rel_error = np.inf
                wrong.append(label)
                continue
            error = np.abs(a - e)
            max_error = max(max_error, float(error.max(initial=0.0)))
            rel_error = max(rel_error, relative_error(a, e))
            if np.any(error > (0.0 if exact else atol + rtol * np.abs(e))):
                wrong_values.append(label)
            continue
        wrong.append(label)
        comparable = False
    if not comparable:
        max_error = rel_error = np.nan
    if wrong_values:
        problems.append(f"{join_words(wrong_values)} {'differs' if len(wrong_values) == 1 else 'differ'}")
    wrong += wrong_values
    if not wrong:
        return Comparison(True, "", max_error, rel_error)
    right = [label for label in labels if label not in wrong]
    if right and len(names) == len(expected):
        problems.append(f"{join_words(right)} {'is' if len(right) == 1 else 'are'} right")
    return Comparison(False, "; ".join(problems), max_error, rel_error, tuple(label for label in labels if label in wrong))
