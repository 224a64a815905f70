"""Argument checks shared by the ops. Every check runs before any Numba code, so a learner sees one
clear Python error naming the argument and the shapes it got, never a page of Numba typing errors."""
from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def as_float_array(name: str, value, ndim: int, layout: str, dtype=None) -> np.ndarray:
    """Return ``value`` as a C-contiguous float32/float64 array with ``ndim`` dimensions.

    ``layout`` names the axes for the error message, e.g. ``"(N, C, H, W)"``. Integer and bool
    arrays are converted to float64 (or to ``dtype`` when given), so ``conv2d(np.ones(...,
    dtype=int), ...)`` works; strings, objects and complex numbers are refused.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array {layout}, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {array.dtype} with shape {array.shape}")
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {array.shape}")
    if dtype is None:
        dtype = array.dtype if array.dtype in FLOAT_DTYPES else np.float64
    return np.ascontiguousarray(array, dtype=dtype)


def pair(name: str, value, minimum: int) -> tuple[int, int]:
    """Turn an int or an (h, w) pair into a tuple of two ints, each at least ``minimum``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        values = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    if min(values) < minimum:
        rule = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return values


def output_size(length: int, window: int, stride: int, padding: int = 0) -> int:
    """Number of window positions along one axis: floor((length + 2*padding - window) / stride) + 1."""
    return (length + 2 * padding - window) // stride + 1
