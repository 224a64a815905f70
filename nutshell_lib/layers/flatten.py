"""Flatten: (N, d1, d2, ...) -> (N, d1 * d2 * ...), the bridge from conv feature maps to Dense."""
from __future__ import annotations

import numpy as np

from .base import Layer, as_array


class Flatten(Layer):
    def forward(self, x, training=True):
        """x (N, ...) -> y (N, prod(...)); a view, no copy, when x is contiguous."""
        x = as_array(x)
        if x.ndim < 2:
            raise ValueError(f"{self!r}: expected input (N, ...) with at least 2 dimensions, got {x.shape}")
        self.input_shape = x.shape
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))  # explicit: device arrays take no -1

    def backward(self, dy):
        """dy (N, prod(...)) -> dx (N, ...), the input's shape."""
        input_shape = self._saved("input_shape")
        dy = self._check_dy(dy, (input_shape[0], int(np.prod(input_shape[1:]))))
        return dy.reshape(input_shape)
