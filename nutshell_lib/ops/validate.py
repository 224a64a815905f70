"""Argument checks shared by the ops. Every check runs before any Numba code, so a learner sees one
clear Python error naming the argument and the shapes it got, never a page of Numba typing errors."""
from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np

from .device import is_device_array, to_gpu

FLOAT_DTYPES = (np.float32, np.float64)


def as_float_array(name: str, value, ndim: int, layout: str, dtype=None) -> np.ndarray:
    """Return ``value`` as a C-contiguous float32/float64 array with ``ndim`` dimensions.

    ``layout`` names the axes for the error message, e.g. ``"(N, C, H, W)"``. Integer and bool
    arrays are converted to float64 (or to ``dtype`` when given), so ``conv2d(np.ones(...,
    dtype=int), ...)`` works; strings, objects and complex numbers are refused.

    A device array (see ``device.is_device_array``) is checked the same way, with the same messages,
    and returned as a Numba device array without a copy. It is never converted (that would need a
    kernel and a second array on the GPU): it must already be C-contiguous float32 or float64, of
    ``dtype`` when given.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array {layout}, got {type(value).__name__}")
    if is_device_array(value):
        return _as_float_device_array(name, value, ndim, layout, dtype)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {array.dtype} with shape {array.shape}")
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {array.shape}")
    if dtype is None:
        dtype = array.dtype if array.dtype in FLOAT_DTYPES else np.float64
    return np.ascontiguousarray(array, dtype=dtype)


def _as_float_device_array(name: str, value, ndim: int, layout: str, dtype):
    """``as_float_array`` for an array on the GPU; see there."""
    array = to_gpu(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {array.dtype} with shape {array.shape}")
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {array.shape}")
    wanted = FLOAT_DTYPES if dtype is None else (np.dtype(dtype),)
    if array.dtype not in wanted:
        names = " or ".join(np.dtype(d).name for d in wanted)
        raise TypeError(f"{name} is a GPU array of dtype {array.dtype} (shape {array.shape}); GPU arrays are not "
                        f"converted, so it must be {names}")
    if array.size and not array.is_c_contiguous():
        raise ValueError(f"{name} is a GPU array of shape {array.shape} that is not C-contiguous; GPU arrays are not "
                         "copied, so pass a C-contiguous one")
    return array


def matching(name: str, value, reference, reference_name: str):
    """``value`` as an array of ``reference``'s shape and dtype (a gradient beside its parameter),
    checked as by ``as_float_array``: a device array as it is, a NumPy array converted."""
    layout = f"(like {reference_name}, {tuple(reference.shape)})"
    array = as_float_array(name, value, len(reference.shape), layout, dtype=reference.dtype)
    if tuple(array.shape) != tuple(reference.shape):
        raise ValueError(f"{name} must have {reference_name}'s shape {tuple(reference.shape)}, got {tuple(array.shape)}")
    return array


def pair(name: str, value, minimum: int) -> tuple[int, int]:
    """Turn an int or an (h, w) pair into a tuple of two ints, each at least ``minimum``."""
    if is_int(value):
        values = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
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


# The one policy, whatever the entry point: TypeError when a value is of the wrong kind (2.5 where
# an int belongs, a string for a number), ValueError when it is of the right kind but not allowed
# (0 channels, a negative rate, nan). Callers that add their own name keep the type (`named`).

def is_int(value) -> bool:
    # type(...) is int first: the ABC check costs microseconds, on every op's stride and padding
    return type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, bool))


def positive_int(name: str, value) -> int:
    """``value`` as an int >= 1."""
    if not is_int(value):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def int_at_least(name: str, value, minimum: int) -> int:
    """``value`` as an int >= ``minimum``."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def real_number(name: str, value, *, at_least=None, below=None, above=None) -> float:
    """``value`` as a finite float, optionally with at_least <= value, value < below, value > above."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    bounds = [(bound, rule, holds) for bound, rule, holds in (
        (at_least, ">=", lambda b: value >= b), (below, "<", lambda b: value < b), (above, ">", lambda b: value > b),
    ) if bound is not None]
    if not np.isfinite(value) or not all(holds(bound) for bound, _, holds in bounds):
        wanted = "".join(f" {'and ' if i else ''}{rule} {bound}" for i, (bound, rule, _) in enumerate(bounds))
        raise ValueError(f"{name} must be a finite number{wanted}, got {value!r}")
    return value


def float_dtype(name: str, dtype) -> np.dtype:
    """``dtype`` as np.float32 or np.float64."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be float32 or float64, got {dtype}")
    return dtype


@contextmanager
def named(owner: str):
    """Prefix ``owner`` (a layer, an optimizer, ``Sequential layer 3``) to the message of a
    TypeError or ValueError raised inside, keeping its type."""
    try:
        yield
    except (TypeError, ValueError) as error:
        raise type(error)(f"{owner}: {error}") from error
