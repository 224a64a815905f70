"""Each element-wise activation's formulas, written once for both devices.

An activation is a pair of formulas: the function ``forward(x, parameter) -> y`` and its local
gradient ``gradient(x, y, parameter) -> f'(x)``, from the input x and the output y (the backward
pass multiplies it by dy). ``parameter`` is LeakyReLU's slope; the others ignore it, so that one
kernel shape serves them all.

The formulas are plain arithmetic over a few primitives, which each factory below binds from a
``Primitives``: NumPy's vectorised functions make them work on whole arrays on the CPU
(``ops.elementwise``), ``math``'s scalar functions on one element per thread inside a CUDA kernel
(``cuda_activations``). So the CPU and the GPU evaluate the same expression; only where it rounds
may differ (a GPU thread takes a float32 input to float64 with the first float64 constant).

Constants are module globals (NumPy float64 scalars, as the CPU code always used), which Numba
compiles as constants.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

SQRT_2 = np.sqrt(2.0)
SQRT_2_PI = np.sqrt(2.0 * np.pi)


class Primitives(NamedTuple):
    """The functions the formulas are made of, for arrays or for single numbers."""

    tanh: Callable
    exp: Callable
    erf: Callable
    where: Callable  # where(condition, if_true, if_false), elementwise
    maximum: Callable  # a NaN wins, as in np.maximum
    in_dtype_of: Callable  # in_dtype_of(value, x): value in x's dtype (a no-op for a GPU thread's number)
    callable_from_formulas: Callable  # makes a formula callable inside another (cuda.jit(device=True) on the GPU)


def sigmoid(on: Primitives):
    """sigma(x) = 1 / (1 + exp(-x)), computed as (1 + tanh(x/2)) / 2: equal in real arithmetic, and
    never an exp of a large number, so no overflow for very negative x. sigma' = y (1 - y)."""
    tanh = on.tanh

    def forward(x, parameter):
        return 0.5 * (1.0 + tanh(0.5 * x))

    def gradient(x, y, parameter):
        return y * (1.0 - y)

    return forward, gradient


def tanh(on: Primitives):
    """tanh(x); tanh' = 1 - y**2."""
    tanh = on.tanh

    def forward(x, parameter):
        return tanh(x)

    def gradient(x, y, parameter):
        return 1.0 - y * y

    return forward, gradient


def relu(on: Primitives):
    """max(x, 0); the derivative at 0 is taken as 0."""
    maximum = on.maximum

    def forward(x, parameter):
        return maximum(x, 0)

    def gradient(x, y, parameter):
        return x > 0

    return forward, gradient


def leaky_relu(on: Primitives):
    """x for x > 0, slope * x otherwise (slope = ``parameter``); the derivative at 0 is the slope."""
    where, in_dtype_of = on.where, on.in_dtype_of

    def forward(x, parameter):
        return in_dtype_of(where(x > 0, x, parameter * x), x)

    def gradient(x, y, parameter):
        return in_dtype_of(where(x > 0, 1.0, parameter), x)

    return forward, gradient


def gelu(on: Primitives):
    """The exact GELU x Phi(x), Phi the standard normal CDF (via erf); derivative Phi(x) + x phi(x),
    phi the standard normal density."""
    erf, exp, in_dtype_of = on.erf, on.exp, on.in_dtype_of

    def forward(x, parameter):
        return x * in_dtype_of(0.5 * (1.0 + erf(x / SQRT_2)), x)

    def gradient(x, y, parameter):
        cdf = 0.5 * (1.0 + erf(x / SQRT_2))
        density = exp(-0.5 * x * x) / SQRT_2_PI
        return in_dtype_of(cdf + x * density, x)

    return forward, gradient


def silu(on: Primitives):
    """x sigma(x) (also called swish); derivative s (1 + x (1 - s)) with s = sigma(x)."""
    sigma = on.callable_from_formulas(sigmoid(on)[0])

    def forward(x, parameter):
        return x * sigma(x, parameter)

    def gradient(x, y, parameter):
        s = sigma(x, parameter)
        return s * (1.0 + x * (1.0 - s))

    return forward, gradient
