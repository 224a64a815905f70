"""Embedding: a learned vector for each token id, looked up by row. It is a Dense layer applied to
one-hot inputs, computed without building them."""
from __future__ import annotations

import numpy as np

from .base import Layer
from .init import check_dtype, check_positive_int, make_rng


class Embedding(Layer):
    """Integer ids (N, T) -> vectors (N, T, embedding_dim): y[n, t] = W[ids[n, t]].

    Parameter ``W`` (num_embeddings, embedding_dim), standard normal as in ``torch.nn.Embedding``.
    Any shape of ids works, (N, ...) -> (N, ..., embedding_dim). ``backward`` sets ``grads["W"]``,
    row v the sum of dy over every position holding id v, and returns None: ids have no gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, rng=None, dtype=np.float32):
        super().__init__()
        name = f"Embedding({num_embeddings!r}, {embedding_dim!r})"
        self.num_embeddings = check_positive_int(name, "num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int(name, "embedding_dim", embedding_dim)
        self.dtype = check_dtype(name, dtype)
        shape = (self.num_embeddings, self.embedding_dim)
        self._add_param("W", make_rng(rng).standard_normal(shape).astype(self.dtype))
        self.ids = None

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def _check_ids(self, ids) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"{self!r}: ids must be an integer array, got dtype {ids.dtype}")
        if ids.ndim < 1:
            raise ValueError(f"{self!r}: expected ids (N, T), got shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids[(ids < 0) | (ids >= self.num_embeddings)]
            raise ValueError(f"{self!r}: ids must be in [0, {self.num_embeddings}), got {bad.size} outside it "
                             f"(values from {ids.min()} to {ids.max()}, first bad one {bad.flat[0]})")
        return ids

    def forward(self, ids, training=True):
        """ids (N, T) integers in [0, num_embeddings) -> y (N, T, embedding_dim), rows of W."""
        self.ids = self._check_ids(ids)
        return self.params["W"][self.ids]

    def backward(self, dy):
        """dy (N, T, embedding_dim) -> None; sets grads W (num_embeddings, embedding_dim)."""
        ids = self._saved("ids")
        dy = self._check_dy(dy, ids.shape + (self.embedding_dim,))
        grad = np.zeros_like(self.params["W"])
        np.add.at(grad, ids.ravel(), dy.reshape(-1, self.embedding_dim))  # repeated ids add up
        self.grads["W"] = grad
        return None
