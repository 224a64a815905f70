"""Pooling layers over the functional ops ``max_pool2d`` and ``avg_pool2d``."""
from __future__ import annotations

import numpy as np

from ..ops import gpu_steps
from ..ops.device import is_device_array, resolve_device
from ..ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from ..ops.validate import as_float_array, named, output_size, pair
from .base import Layer, check_input


class _Pool2D(Layer):
    """Shared by max and average pooling: window ``size``, ``stride`` (defaults to size).

    Subclasses name their functional ops in ``pool`` and ``pool_backward``. ``padding`` is
    (0, 0) except for max pooling, which pads with -inf.
    """

    pool = pool_backward = None

    def __init__(self, size, stride=None, *, device="auto"):
        super().__init__()
        name = type(self).__name__
        with named(name):
            self.size = pair("size", size, 1)
            self.stride = self.size if stride is None else pair("stride", stride, 1)
        self.padding = (0, 0)
        self.device = device
        self.x = None

    def __repr__(self) -> str:
        padded = f", padding={self.padding}" if any(self.padding) else ""
        return f"{type(self).__name__}(size={self.size}, stride={self.stride}{padded})"

    def forward(self, x, training=True):
        """x (N, C, H, W) -> y (N, C, P, Q) with P = (H + 2 padding - size) // stride + 1 (Q likewise)."""
        x = check_input(self, x, "(N, C, H, W)")
        for axis, length, window, step, pad in zip("HW", x.shape[2:], self.size, self.stride, self.padding):
            if output_size(length, window, step, pad) < 1:
                raise ValueError(f"{self!r}: input {x.shape} has {axis}={length}, smaller than the window {window}")
        ph, pw = self.padding
        if is_device_array(x):
            with named(repr(self)):  # before the padding kernel; a device array is never converted
                resolve_device(self.device, dict(x=x))
                x = as_float_array("x", x, 4, "(N, C, H, W)")
            if ph or pw:
                x = gpu_steps.pad(x, self.padding, -np.inf)
        else:
            if x.dtype.kind != "f":
                x = x.astype(np.float64)
            if ph or pw:
                x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
        self.x = x
        y = type(self).pool(x, self.size, stride=self.stride, device=self.device)
        self.output_shape = y.shape
        return y

    def backward(self, dy):
        """dy (N, C, P, Q) -> dx (N, C, H, W)."""
        x = self._saved("x")
        dy = self._check_dy(dy, self.output_shape)
        dx = type(self).pool_backward(dy, x, self.size, stride=self.stride, device=self.device)
        ph, pw = self.padding
        if not (ph or pw):
            return dx
        if is_device_array(dx):
            return gpu_steps.crop(dx, self.padding)
        return dx[:, :, ph:dx.shape[2] - ph, pw:dx.shape[3] - pw]


class MaxPool2D(_Pool2D):
    """Max over each window; backward sends each dy to its window's maximum.

    ``padding`` (default 0) pads with -inf, so padded cells never win:
    ``MaxPool2D(3, stride=1, padding=1)`` keeps the spatial size, as in GoogLeNet's pool branch.
    """

    pool, pool_backward = max_pool2d, max_pool2d_backward

    def __init__(self, size, stride=None, *, padding=0, device="auto"):
        super().__init__(size, stride, device=device)
        with named("MaxPool2D"):
            self.padding = pair("padding", padding, 0)
        if any(p >= s for p, s in zip(self.padding, self.size)):
            raise ValueError(f"MaxPool2D: padding {self.padding} must be smaller than the window {self.size}")


class AvgPool2D(_Pool2D):
    """Mean over each window; backward spreads each dy evenly over its window."""

    pool, pool_backward = avg_pool2d, avg_pool2d_backward
