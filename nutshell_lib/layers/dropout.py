"""Inverted dropout: at training time zero each activation with probability p and scale the
survivors by 1 / (1 - p), so the expected activation is unchanged and evaluation needs no rescaling."""
from __future__ import annotations

import numbers

import numpy as np

from .base import Layer
from .init import make_rng


class Dropout(Layer):
    """Dropout with drop probability ``p`` in [0, 1); identity when ``training=False``.

    ``rng`` (int seed or Generator) draws the masks, so a seeded run is reproducible.
    """

    def __init__(self, p: float = 0.5, *, rng=None):
        super().__init__()
        if not isinstance(p, numbers.Real) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = make_rng(rng)
        self.scale = None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"

    def forward(self, x, training=True):
        """x (any shape) -> y, same shape: x * mask / (1 - p) in training, x in evaluation."""
        x = np.asarray(x)
        if not training or self.p == 0:
            self.scale = 1.0
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.scale = keep.astype(x.dtype if x.dtype.kind == "f" else np.float64) / (1.0 - self.p)
        return x * self.scale

    def backward(self, dy):
        """dy -> dx = dy * mask / (1 - p) (or dy itself after an evaluation forward)."""
        scale = self._saved("scale")
        if np.ndim(scale):
            dy = self._check_dy(dy, scale.shape)
        return dy * scale
