"""Elementwise functions the layers and losses share."""
from __future__ import annotations

import numpy as np

from ..kernels.cpu_elementwise import relu_backward as relu_backward_kernel
from .threads import run_in_blocks


def sigmoid(x: np.ndarray) -> np.ndarray:
    """sigma(x) = 1 / (1 + exp(-x)) for an array of any shape, keeping its float dtype.

    Computed as (1 + tanh(x / 2)) / 2, which equals it exactly in real arithmetic and never
    evaluates exp of a large number, so no overflow warning for very negative x.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient through y = max(x, 0): dx = dy where x > 0, else 0 (the derivative at 0 taken as 0).

    dy, x: float arrays of one shape, any number of dimensions; dx has that shape and the dtype
    NumPy gives dy * x. On the kit's threads for large arrays.
    """
    dy, x = np.asarray(dy), np.asarray(x)
    for name, array in (("dy", dy), ("x", x)):
        if array.dtype.kind != "f":
            raise TypeError(f"relu_backward: {name} must be a float array, got dtype {array.dtype} with shape {array.shape}")
    if dy.shape != x.shape:
        raise ValueError(f"relu_backward: dy and x must have one shape, got dy {dy.shape} and x {x.shape}")
    dtype = np.result_type(dy, x)
    dy_flat = np.ascontiguousarray(dy, dtype).reshape(-1)
    x_flat = np.ascontiguousarray(x, dtype).reshape(-1)
    dx = np.empty(x.shape, dtype)
    run_in_blocks(relu_backward_kernel, dx.size, dx.size, dy_flat, x_flat, dx.reshape(-1))
    return dx
