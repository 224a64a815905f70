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
from ..kernels import cpu_elementwise
from .threads import run_in_blocks


def _in_dtype_of(value: np.ndarray, x: np.ndarray) -> np.ndarray:
    return value.astype(x.dtype, copy=False)


ON_ARRAYS = Primitives(tanh=np.tanh, exp=np.exp, erf=erf, where=np.where, maximum=np.maximum,
                       in_dtype_of=_in_dtype_of, callable_from_formulas=lambda formula: formula)


class Elementwise:
    """An activation's ``forward(x, parameter)`` and ``gradient(x, y, parameter)`` on NumPy arrays
    of any shape (see ``kernels.activation_formulas``), and the ``formulas`` factory they came from.

    ``backward(dy, x, y, parameter)`` is dy * gradient. Where ``fused_forward(x)`` and
    ``fused_backward(dy, x)`` are given, they replace the formulas on the CPU: one pass of a kernel
    on the kit's threads computing the same thing, for the activation every CNN has."""

    def __init__(self, formulas, fused_forward=None, fused_backward=None):
        self.formulas = formulas
        self._forward_formula, self.gradient = formulas(ON_ARRAYS)
        self.fused_forward, self.fused_backward = fused_forward, fused_backward

    def __repr__(self) -> str:
        return f"Elementwise({self.formulas.__name__})"

    def forward(self, x: np.ndarray, parameter: float) -> np.ndarray:
        """y = f(x), of x's shape."""
        if self.fused_forward is not None:
            return self.fused_forward(x)
        return self._forward_formula(x, parameter)

    def backward(self, dy: np.ndarray, x: np.ndarray, y: np.ndarray, parameter: float) -> np.ndarray:
        """dx = dy * f'(x) for dy, x, y of one shape."""
        if self.fused_backward is not None:
            return self.fused_backward(dy, x)
        return dy * self.gradient(x, y, parameter)


def _float_array(name: str, value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise TypeError(f"relu: {name} must be a float array, got dtype {array.dtype} with shape {array.shape}")
    return array


def relu(x: np.ndarray) -> np.ndarray:
    """y = max(x, 0) for a float array x of any shape (NaN stays NaN), on the kit's threads for large arrays."""
    x = _float_array("x", x)
    x_flat = np.ascontiguousarray(x).reshape(-1)
    y = np.empty(x.shape, x.dtype)
    run_in_blocks(cpu_elementwise.relu_forward, y.size, y.size, x_flat, y.reshape(-1))
    return y


def relu_backward(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient through y = max(x, 0): dx = dy where x > 0, else 0 (the derivative at 0 taken as 0).

    dy, x: float arrays of one shape, any number of dimensions; dx has that shape and the dtype
    NumPy gives dy * x. On the kit's threads for large arrays.
    """
    dy, x = _float_array("dy", dy), _float_array("x", x)
    if dy.shape != x.shape:
        raise ValueError(f"relu: dy and x must have one shape, got dy {dy.shape} and x {x.shape}")
    dtype = np.result_type(dy, x)
    dy_flat = np.ascontiguousarray(dy, dtype).reshape(-1)
    x_flat = np.ascontiguousarray(x, dtype).reshape(-1)
    dx = np.empty(x.shape, dtype)
    run_in_blocks(cpu_elementwise.relu_backward, dx.size, dx.size, dy_flat, x_flat, dx.reshape(-1))
    return dx


SIGMOID = Elementwise(activation_formulas.sigmoid)
TANH = Elementwise(activation_formulas.tanh)
RELU = Elementwise(activation_formulas.relu, fused_forward=relu, fused_backward=relu_backward)
LEAKY_RELU = Elementwise(activation_formulas.leaky_relu)
GELU = Elementwise(activation_formulas.gelu)
SILU = Elementwise(activation_formulas.silu)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """sigma(x) = 1 / (1 + exp(-x)) for an array of any shape, keeping its float dtype.

    Computed as (1 + tanh(x / 2)) / 2, which equals it exactly in real arithmetic and never
    evaluates exp of a large number, so no overflow warning for very negative x.
    """
    return SIGMOID.forward(x, 0.0)
