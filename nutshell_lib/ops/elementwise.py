"""Elementwise functions the layers and losses share: the activations' formulas
(``kernels.activation_formulas``) bound to NumPy, so they work on whole arrays on the CPU.

Each ``Elementwise`` keeps the factory it was made from, which is how ``gpu_steps`` finds the CUDA
kernels compiled from the same formulas.
"""
from __future__ import annotations

import numpy as np
from scipy.special import erf

from ..kernels import activation_formulas
from ..kernels.activation_formulas import Primitives
from ..kernels.cpu_elementwise import relu_backward as relu_backward_kernel
from .threads import run_in_blocks


def _in_dtype_of(value: np.ndarray, x: np.ndarray) -> np.ndarray:
    return value.astype(x.dtype, copy=False)


ON_ARRAYS = Primitives(tanh=np.tanh, exp=np.exp, erf=erf, where=np.where, maximum=np.maximum,
                       in_dtype_of=_in_dtype_of, callable_from_formulas=lambda formula: formula)


class Elementwise:
    """An activation's ``forward(x, parameter)`` and ``gradient(x, y, parameter)`` on NumPy arrays
    of any shape (see ``kernels.activation_formulas``), and the ``formulas`` factory they came from.

    ``backward(dy, x, y, parameter)`` is dy * gradient, or ``fused_backward(dy, x)`` where one is
    given: one pass of a CPU kernel over the same formula, for the activations every CNN has."""

    def __init__(self, formulas, fused_backward=None):
        self.formulas = formulas
        self.forward, self.gradient = formulas(ON_ARRAYS)
        self.fused_backward = fused_backward

    def __repr__(self) -> str:
        return f"Elementwise({self.formulas.__name__})"

    def backward(self, dy: np.ndarray, x: np.ndarray, y: np.ndarray, parameter: float) -> np.ndarray:
        """dx = dy * f'(x) for dy, x, y of one shape."""
        if self.fused_backward is not None:
            return self.fused_backward(dy, x)
        return dy * self.gradient(x, y, parameter)


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


SIGMOID = Elementwise(activation_formulas.sigmoid)
TANH = Elementwise(activation_formulas.tanh)
RELU = Elementwise(activation_formulas.relu, fused_backward=relu_backward)
LEAKY_RELU = Elementwise(activation_formulas.leaky_relu)
GELU = Elementwise(activation_formulas.gelu)
SILU = Elementwise(activation_formulas.silu)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """sigma(x) = 1 / (1 + exp(-x)) for an array of any shape, keeping its float dtype.

    Computed as (1 + tanh(x / 2)) / 2, which equals it exactly in real arithmetic and never
    evaluates exp of a large number, so no overflow warning for very negative x.
    """
    return SIGMOID.forward(x, 0.0)
