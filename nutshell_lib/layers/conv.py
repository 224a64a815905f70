"""2-d convolution layer over the functional ops ``conv2d`` / ``conv2d_backward``."""
from __future__ import annotations

import numpy as np

from ..ops.conv import conv2d, conv2d_backward
from ..ops.validate import named, output_size, pair
from .base import Layer, cast, check_input
from .init import check_dtype, check_positive_int, he_normal, make_rng


class Conv2D(Layer):
    """Cross-correlation of (N, C, H, W) inputs with K filters of size R x S.

    Parameters: ``W`` (K, C, R, S), He-normal with fan_in = C * R * S, and ``b`` (K,), zeros.
    Output (N, K, P, Q) with P = (H + 2 * padding - R) // stride + 1 (Q likewise).
    ``kernel_size``, ``stride`` and ``padding`` are ints or (h, w) pairs. ``dtype`` (float32 by
    default, float64 for gradient checks) is the parameters' dtype; inputs are cast to it.
    ``input_grad=False`` (for a network's first layer, whose input is the data) makes ``backward``
    skip the input gradient and return None, which saves about half of its work.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, *,
                 rng=None, dtype=np.float32, device="auto", input_grad=True):
        super().__init__()
        name = f"Conv2D({in_channels!r} -> {out_channels!r})"
        self.in_channels = check_positive_int(name, "in_channels", in_channels)
        self.out_channels = check_positive_int(name, "out_channels", out_channels)
        with named(name):
            self.kernel_size = pair("kernel_size", kernel_size, 1)
            self.stride = pair("stride", stride, 1)
            self.padding = pair("padding", padding, 0)
        self.dtype = check_dtype(name, dtype)
        self.device = device
        self.input_grad = bool(input_grad)
        R, S = self.kernel_size
        shape = (self.out_channels, self.in_channels, R, S)
        self._add_param("W", he_normal(make_rng(rng), shape, self.in_channels * R * S, self.dtype))
        self._add_param("b", np.zeros(self.out_channels, self.dtype))
        self.x = None

    def __repr__(self) -> str:
        (R, S), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        stride = f", stride={sh}" if sh == sw else f", stride={self.stride}"
        padding = f", padding={ph}" if ph == pw else f", padding={self.padding}"
        return f"Conv2D({self.in_channels} -> {self.out_channels}, {R}x{S}{stride}{padding})"

    def forward(self, x, training=True):
        """x (N, C, H, W) -> y (N, K, P, Q)."""
        x = check_input(self, x, "(N, C, H, W)", C=self.in_channels)
        for axis, length, window, step, pad in zip("HW", x.shape[2:], self.kernel_size, self.stride, self.padding):
            if output_size(length, window, step, pad) < 1:
                raise ValueError(f"{self!r}: input {x.shape} has {axis}={length}, too small for the "
                                 f"{window}-wide kernel with padding {pad}")
        self.x = cast(x, self.dtype)
        y = conv2d(self.x, self.params["W"], self.params["b"], stride=self.stride, padding=self.padding,
                   device=self.device)
        self.output_shape = y.shape
        return y

    def backward(self, dy):
        """dy (N, K, P, Q) -> dx (N, C, H, W), or None when input_grad is False; sets grads W (K, C, R, S)
        and b (K,)."""
        x = self._saved("x")
        dy = self._check_dy(dy, self.output_shape)
        dx, self.grads["W"], self.grads["b"] = conv2d_backward(
            cast(dy, self.dtype), x, self.params["W"], stride=self.stride, padding=self.padding,
            device=self.device, input_grad=self.input_grad)
        return dx
