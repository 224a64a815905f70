"""Argument checks for the dataset generators: one clear ValueError/TypeError naming the argument."""
from __future__ import annotations

import numbers

import numpy as np


def positive_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, refusing bools, floats and anything below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def non_negative(name: str, value, maximum: float | None = None) -> float:
    """Return ``value`` as a float in [0, maximum] (no upper bound when ``maximum`` is None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not value >= 0 or (maximum is not None and value > maximum):
        bound = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be >= 0{bound}, got {value!r}")
    return value


def balanced_labels(n: int, classes: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` int64 labels in random order, each class appearing n // classes or n // classes + 1 times."""
    return rng.permutation(np.arange(n, dtype=np.int64) % classes)
