"""Element-wise activations and softmax. None has parameters; each keeps what its backward needs."""
from __future__ import annotations

import numpy as np

from ..ops import elementwise, gpu_steps
from ..ops.device import is_device_array, to_gpu
from ..ops.validate import as_float_array, matching, named
from .base import Layer, as_array


class Activation(Layer):
    """An element-wise function f with derivative f', from ``function`` (an ``ops.elementwise``
    formula pair, which the CPU evaluates on NumPy arrays and the GPU's kernels on device arrays);
    ``parameter`` goes to both formulas (LeakyReLU's slope, unused by the others)."""

    function = None
    parameter = 0.0

    def forward(self, x, training=True):
        """x (any shape) -> y = f(x), same shape."""
        x = as_array(x)
        if is_device_array(x):
            with named(repr(self)):
                x = as_float_array("x", x, x.ndim, "(any shape)")
            self.x, self.y = x, gpu_steps.activation(self.function, x, self.parameter)
            return self.y
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{self!r}: expected a real-valued input array, got dtype {x.dtype}")
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        self.x = x
        self.y = self.function.forward(x, self.parameter)
        return self.y

    def backward(self, dy):
        """dy (shape of y) -> dx = dy * f'(x)."""
        x, y = self._saved("x", "y")
        dy = self._check_dy(dy, y.shape)
        if is_device_array(x):
            with named(repr(self)):
                dy = to_gpu(matching("dy", dy, y, "the output"))
            return gpu_steps.activation_backward(self.function, dy, x, y, self.parameter)
        return self.function.backward(dy, x, y, self.parameter)


class Sigmoid(Activation):
    """sigma(x) = 1 / (1 + exp(-x)), computed as (1 + tanh(x/2)) / 2 so no exp overflows."""

    function = elementwise.SIGMOID


class Tanh(Activation):
    function = elementwise.TANH


class ReLU(Activation):
    """max(x, 0); the derivative at 0 is taken as 0."""

    function = elementwise.RELU


class LeakyReLU(Activation):
    """x for x > 0, slope * x otherwise."""

    function = elementwise.LEAKY_RELU

    def __init__(self, slope: float = 0.01):
        super().__init__()
        if not 0 <= slope < 1:
            raise ValueError(f"LeakyReLU: slope must be in [0, 1), got {slope!r}")
        self.slope = float(slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope})"

    @property
    def parameter(self) -> float:
        return self.slope


class GELU(Activation):
    """The exact GELU, x * Phi(x) with Phi the standard normal CDF (via erf), as PyTorch's default.

    Its derivative is Phi(x) + x * phi(x), phi the standard normal density.
    """

    function = elementwise.GELU


class SiLU(Activation):
    """x * sigmoid(x) (also called swish); derivative s + x s (1 - s)."""

    function = elementwise.SILU


class Softmax(Layer):
    """Softmax over the last axis: y_i = exp(x_i) / sum_j exp(x_j).

    For classification, prefer raw logits with ``losses.softmax_cross_entropy``: it fuses the two
    and is exact for huge logits. This layer is for when probabilities are the output you want.
    """

    def forward(self, x, training=True):
        """x (..., classes) -> y (..., classes), each row summing to 1."""
        x = np.asarray(x, dtype=np.result_type(x, np.float32))
        shifted = np.exp(x - x.max(axis=-1, keepdims=True))
        self.y = shifted / shifted.sum(axis=-1, keepdims=True)
        return self.y

    def backward(self, dy):
        """dy (..., classes) -> dx = y * (dy - sum(dy * y)) along the last axis."""
        y = self._saved("y")
        dy = self._check_dy(dy, y.shape)
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
