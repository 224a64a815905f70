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


def _in_dtype_of(value: np.ndarray, x: np.ndarray) -> np.ndarray:
    return value.astype(x.dtype, copy=False)


ON_ARRAYS = Primitives(tanh=np.tanh, exp=np.exp, erf=erf, where=np.where, maximum=np.maximum,
                       in_dtype_of=_in_dtype_of, callable_from_formulas=lambda formula: formula)


class Elementwise:
    """An activation's ``forward(x, parameter)`` and ``gradient(x, y, parameter)`` on NumPy arrays
    of any shape (see ``kernels.activation_formulas``), and the ``formulas`` factory they came from."""

    def __init__(self, formulas):
        self.formulas = formulas
        self.forward, self.gradient = formulas(ON_ARRAYS)

    def __repr__(self) -> str:
        return f"Elementwise({self.formulas.__name__})"


SIGMOID = Elementwise(activation_formulas.sigmoid)
TANH = Elementwise(activation_formulas.tanh)
RELU = Elementwise(activation_formulas.relu)
LEAKY_RELU = Elementwise(activation_formulas.leaky_relu)
GELU = Elementwise(activation_formulas.gelu)
SILU = Elementwise(activation_formulas.silu)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """sigma(x) = 1 / (1 + exp(-x)) for an array of any shape, keeping its float dtype.

    Computed as (1 + tanh(x / 2)) / 2, which equals it exactly in real arithmetic and never
    evaluates exp of a large number, so no overflow warning for very negative x.
    """
    return SIGMOID.forward(x, 0.0)
