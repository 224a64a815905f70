"""Random initial weights and the random generator behind them.

Every layer that draws random numbers takes ``rng``: an int seed, a ``numpy.random.Generator``,
or None (fresh, unseeded entropy). Nothing here touches NumPy's global random state, so two
layers built with the same seed get the same weights whatever ran before.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..ops.validate import float_dtype, named, positive_int


def make_rng(rng) -> np.random.Generator:
    """Turn an int seed, a Generator or None into a Generator."""
    if rng is None or isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None, got {type(rng).__name__}")


def he_normal(rng: np.random.Generator, shape: tuple, fan_in: int, dtype) -> np.ndarray:
    """Normal with std sqrt(2 / fan_in) (He et al. 2015): keeps activations' scale through ReLUs."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def glorot_uniform(rng: np.random.Generator, shape: tuple, fan_in: int, fan_out: int, dtype) -> np.ndarray:
    """Uniform on +-sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010): suits tanh and sigmoid."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


def check_dtype(layer_name: str, dtype) -> np.dtype:
    with named(layer_name):
        return float_dtype("dtype", dtype)


def check_positive_int(layer_name: str, name: str, value) -> int:
    with named(layer_name):
        return positive_int(name, value)
