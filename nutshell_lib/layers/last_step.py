"""LastTimeStep: keep only the final step of a sequence, for many-to-one tasks (classify a
sequence from the recurrent layer's last hidden state)."""
from __future__ import annotations

import numpy as np

from .base import Layer


class LastTimeStep(Layer):
    def forward(self, x, training=True):
        """x (N, T, H) -> y (N, H) = x[:, -1]."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1] < 1:
            raise ValueError(f"{self!r}: expected input (N, T, H) with T >= 1, got {x.shape}")
        self.input_shape = x.shape
        return x[:, -1]

    def backward(self, dy):
        """dy (N, H) -> dx (N, T, H): dy at the last step, zeros before it."""
        input_shape = self._saved("input_shape")
        dy = self._check_dy(dy, (input_shape[0], input_shape[2]))
        dx = np.zeros(input_shape, dy.dtype)
        dx[:, -1] = dy
        return dx
