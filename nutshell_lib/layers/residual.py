"""Residual connection (He et al. 2015): y = x + body(x). The identity path carries the signal and
its gradient past the body unchanged, which is what lets very deep networks and transformers train."""
from __future__ import annotations

import numpy as np

from .base import Layer
from .composite import Composite


class Residual(Composite):
    """``Residual(body)``: y = x + body(x), for a body whose output has its input's shape.

    The body's arrays appear under "body.", e.g. "body.0.W" for ``Residual(Sequential([Dense, ...]))``.
    Backward: dx = dy + body.backward(dy).
    """

    def __init__(self, body: Layer):
        super().__init__({"body": body})

    @property
    def body(self) -> Layer:
        return self.children["body"]

    def __repr__(self) -> str:
        return f"Residual({self.body!r})"

    def forward(self, x, training=True):
        """x (any shape the body takes) -> y = x + body(x), the same shape."""
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"Residual: expected a real-valued input array, got dtype {x.dtype}")
        branch = self.body.forward(x, training=training)
        if branch.shape != x.shape:
            raise ValueError(f"Residual: the body maps input {x.shape} to {branch.shape}; "
                             f"x + body(x) needs the same shape")
        self.output_shape = x.shape
        return x + branch

    def backward(self, dy):
        """dy (the output's shape) -> dx = dy + the body's dx."""
        dy = self._check_dy(dy, self._saved("output_shape"))
        return dy + self.body.backward(dy)
