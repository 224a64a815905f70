"""Positional encodings: attention treats its input as a set, so a transformer adds to each token's
vector a vector that says where the token stands. Either a fixed pattern of sines and cosines
(Vaswani et al. 2017, "Attention Is All You Need") or one learned vector per position (GPT)."""
from __future__ import annotations

import numpy as np

from .base import Layer, check_input
from .init import check_dtype, check_positive_int, make_rng


def sinusoidal_positions(T: int, D: int, dtype=np.float32) -> np.ndarray:
    """The (T, D) table PE[t, 2i] = sin(t / 10000^(2i / D)), PE[t, 2i + 1] = cos(t / 10000^(2i / D)).

    Column pair i turns at its own frequency, from one radian per step down to 1/10000, so every
    position gets a distinct pattern and a fixed offset is the same rotation at any position.
    An odd D ends with a sine column.
    """
    T = check_positive_int("sinusoidal_positions", "T", T)
    D = check_positive_int("sinusoidal_positions", "D", D)
    dtype = check_dtype("sinusoidal_positions", dtype)
    angles = np.arange(T)[:, None] / 10000.0 ** (np.arange(0, D, 2) / D)  # (T, ceil(D / 2))
    table = np.empty((T, D))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, :D // 2])
    return table.astype(dtype)


class SinusoidalPositions(Layer):
    """x (N, T, embed_dim) -> x + sinusoidal_positions(T, embed_dim); no parameters, dx = dy."""

    def __init__(self, embed_dim: int):
        super().__init__()
        self.embed_dim = check_positive_int(f"SinusoidalPositions({embed_dim!r})", "embed_dim", embed_dim)
        self.output_shape = None

    def __repr__(self) -> str:
        return f"SinusoidalPositions({self.embed_dim})"

    def forward(self, x, training=True):
        """x (N, T, embed_dim) -> y (N, T, embed_dim), position t's row of the table added to x[:, t]."""
        x = check_input(self, x, "(N, T, embed_dim)", embed_dim=self.embed_dim)
        table = sinusoidal_positions(x.shape[1], self.embed_dim, np.result_type(x, np.float32))
        self.output_shape = x.shape
        return x + table

    def backward(self, dy):
        """dy (N, T, embed_dim) -> dx = dy: adding a constant passes the gradient through."""
        return self._check_dy(dy, self._saved("output_shape"))


class LearnedPositions(Layer):
    """x (N, T, embed_dim) -> x + P[:T], one learned vector per position, for T <= max_len.

    Parameter ``P`` (max_len, embed_dim), normal with std 0.02 as GPT-2's position table; rows
    beyond the longest sequence seen get no gradient. dx = dy.
    """

    def __init__(self, max_len: int, embed_dim: int, *, rng=None, dtype=np.float32):
        super().__init__()
        name = f"LearnedPositions({max_len!r}, {embed_dim!r})"
        self.max_len = check_positive_int(name, "max_len", max_len)
        self.embed_dim = check_positive_int(name, "embed_dim", embed_dim)
        self.dtype = check_dtype(name, dtype)
        table = 0.02 * make_rng(rng).standard_normal((self.max_len, self.embed_dim))
        self._add_param("P", table.astype(self.dtype))
        self.output_shape = None

    def __repr__(self) -> str:
        return f"LearnedPositions({self.max_len}, {self.embed_dim})"

    def forward(self, x, training=True):
        """x (N, T, embed_dim) with T <= max_len -> y (N, T, embed_dim) = x + P[:T]."""
        x = check_input(self, x, "(N, T, embed_dim)", embed_dim=self.embed_dim)
        if x.shape[1] > self.max_len:
            raise ValueError(f"{self!r}: the sequence has T = {x.shape[1]} steps, more than max_len = {self.max_len}")
        x = x.astype(self.dtype, copy=False)
        self.output_shape = x.shape
        return x + self.params["P"][:x.shape[1]]

    def backward(self, dy):
        """dy (N, T, embed_dim) -> dx = dy; sets grads P (max_len, embed_dim): row t is dy[:, t] summed
        over the batch, rows from T on zero."""
        output_shape = self._saved("output_shape")
        dy = self._check_dy(dy, output_shape)
        grad = np.zeros_like(self.params["P"])
        grad[:output_shape[1]] = dy.sum(axis=0)
        self.grads["P"] = grad
        return dy
