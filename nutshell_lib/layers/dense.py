"""Dense (fully connected) layer: y = x @ W + b."""
from __future__ import annotations

import numpy as np

from ..ops.linear import linear, linear_backward
from .base import Layer, cast, check_input, flat_rows
from .init import check_dtype, check_positive_int, he_normal, make_rng


class Dense(Layer):
    """Affine map from ``in_features`` to ``out_features``.

    Parameters: ``W`` (in_features, out_features), He-normal (std sqrt(2 / in_features)), and
    ``b`` (out_features,), zeros. Input x (N, ..., in_features), output y (N, ..., out_features):
    any leading axes, as PyTorch's ``Linear``, so in a sequence model x (N, T, D) the same map
    applies at every time step. ``dtype`` (float32 by default, float64 for gradient checks) is the
    parameters' dtype; inputs are cast to it.
    """

    def __init__(self, in_features: int, out_features: int, *, rng=None, dtype=np.float32):
        super().__init__()
        name = f"Dense({in_features!r} -> {out_features!r})"
        self.in_features = check_positive_int(name, "in_features", in_features)
        self.out_features = check_positive_int(name, "out_features", out_features)
        self.dtype = check_dtype(name, dtype)
        shape = (self.in_features, self.out_features)
        self._add_param("W", he_normal(make_rng(rng), shape, self.in_features, self.dtype))
        self._add_param("b", np.zeros(self.out_features, self.dtype))
        self.x = None

    def __repr__(self) -> str:
        return f"Dense({self.in_features} -> {self.out_features})"

    def forward(self, x, training=True):
        """x (N, ..., in_features) -> y (N, ..., out_features), the map applied to every row x[n, ...]."""
        x = check_input(self, x, "(N, ..., in_features)", in_features=self.in_features)
        self.x = cast(x, self.dtype)
        rows = flat_rows(self.x, self.in_features)  # a view for contiguous x: leading axes become rows
        y = linear(rows, self.params["W"], self.params["b"])  # x @ W + b, where x and W are
        return y.reshape(x.shape[:-1] + (self.out_features,))

    def backward(self, dy):
        """dy (N, ..., out_features) -> dx (N, ..., in_features); sets grads W (in, out) and b (out,),
        summed over every leading position."""
        x = self._saved("x")
        dy = self._check_dy(dy, x.shape[:-1] + (self.out_features,))
        # dx = dy @ W.T, grads["W"] = x.T @ dy, grads["b"] = dy summed over the rows
        dx, self.grads["W"], self.grads["b"] = linear_backward(
            flat_rows(cast(dy, self.dtype), self.out_features), flat_rows(x, self.in_features), self.params["W"])
        return dx.reshape(x.shape)
