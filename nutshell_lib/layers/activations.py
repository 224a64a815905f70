"""Element-wise activations and softmax. None has parameters; each keeps what its backward needs."""
from __future__ import annotations

import numpy as np
from scipy.special import erf

from ..ops import gpu_steps
from ..ops.device import is_device_array, to_gpu
from ..ops.elementwise import relu_backward, sigmoid
from .base import Layer, as_array


class Activation(Layer):
    """An element-wise function f with derivative f'. Subclasses define ``_forward`` and
    ``_local_gradient`` (f' evaluated from the stored input x and output y), and for device arrays
    ``_forward_gpu(x)`` and ``_backward_gpu(dy, x)`` (only ReLU has them so far)."""

    _forward_gpu = _backward_gpu = None

    def forward(self, x, training=True):
        """x (any shape) -> y = f(x), same shape."""
        x = as_array(x)
        if is_device_array(x):
            if self._forward_gpu is None:
                raise TypeError(f"{self!r} runs on the CPU only so far; got a GPU array of shape {x.shape}")
            self.x, self.y = x, self._forward_gpu(x)
            return self.y
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{self!r}: expected a real-valued input array, got dtype {x.dtype}")
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        self.x = x
        self.y = self._forward(x)
        return self.y

    def backward(self, dy):
        """dy (shape of y) -> dx = dy * f'(x)."""
        x, y = self._saved("x", "y")
        dy = self._check_dy(dy, y.shape)
        if is_device_array(x):
            return self._backward_gpu(dy, x)
        return self._backward_cpu(dy, x, y)

    def _backward_cpu(self, dy, x, y):
        return dy * self._local_gradient(x, y)


class Sigmoid(Activation):
    """sigma(x) = 1 / (1 + exp(-x)), computed as (1 + tanh(x/2)) / 2 so no exp overflows."""

    def _forward(self, x):
        return sigmoid(x)

    def _local_gradient(self, x, y):
        return y * (1.0 - y)


class Tanh(Activation):
    def _forward(self, x):
        return np.tanh(x)

    def _local_gradient(self, x, y):
        return 1.0 - y * y


class ReLU(Activation):
    """max(x, 0); the derivative at 0 is taken as 0."""

    def _forward(self, x):
        return np.maximum(x, 0)

    def _local_gradient(self, x, y):
        return x > 0

    def _backward_cpu(self, dy, x, y):
        return relu_backward(dy, x)

    def _forward_gpu(self, x):
        return gpu_steps.relu(x)

    def _backward_gpu(self, dy, x):
        return gpu_steps.relu_backward(to_gpu(dy), x)


class LeakyReLU(Activation):
    """x for x > 0, slope * x otherwise."""

    def __init__(self, slope: float = 0.01):
        super().__init__()
        if not 0 <= slope < 1:
            raise ValueError(f"LeakyReLU: slope must be in [0, 1), got {slope!r}")
        self.slope = float(slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope})"

    def _forward(self, x):
        return np.where(x > 0, x, self.slope * x).astype(x.dtype, copy=False)

    def _local_gradient(self, x, y):
        return np.where(x > 0, 1.0, self.slope).astype(x.dtype, copy=False)


class GELU(Activation):
    """The exact GELU, x * Phi(x) with Phi the standard normal CDF (via erf), as PyTorch's default.

    Its derivative is Phi(x) + x * phi(x), phi the standard normal density.
    """

    def _forward(self, x):
        return x * (0.5 * (1.0 + erf(x / np.sqrt(2.0)))).astype(x.dtype, copy=False)

    def _local_gradient(self, x, y):
        cdf = 0.5 * (1.0 + erf(x / np.sqrt(2.0)))
        density = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
        return (cdf + x * density).astype(x.dtype, copy=False)


class SiLU(Activation):
    """x * sigmoid(x) (also called swish); derivative s + x s (1 - s)."""

    def _forward(self, x):
        return x * sigmoid(x)

    def _local_gradient(self, x, y):
        s = sigmoid(x)
        return s * (1.0 + x * (1.0 - s))


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
