"""Layer normalization (Ba, Kiros & Hinton 2016): normalise each example over its own features,
then scale and shift by learned ``gamma`` and ``beta``. Unlike batch norm it needs no batch
statistics, so training and evaluation compute the same thing; transformers use it."""
from __future__ import annotations

import numpy as np

from .base import Layer, check_input
from .init import check_dtype, check_positive_int
from .normalize import standardize_backward


class LayerNorm(Layer):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, mean and (biased) var over the last axis.

    Input x (N, ..., num_features), output the same shape; every vector x[n, ..., :] is normalised
    on its own. Parameters ``gamma`` (ones) and ``beta`` (zeros), (num_features,). The same as
    ``torch.nn.LayerNorm(num_features, eps=eps)``.
    """

    def __init__(self, num_features: int, *, eps: float = 1e-5, dtype=np.float32):
        super().__init__()
        name = f"LayerNorm({num_features!r})"
        self.num_features = check_positive_int(name, "num_features", num_features)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        self.eps = float(eps)
        self.dtype = check_dtype(name, dtype)
        self._add_param("gamma", np.ones(self.num_features, self.dtype))
        self._add_param("beta", np.zeros(self.num_features, self.dtype))
        self.x_hat = None

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features})"

    def forward(self, x, training=True):
        """x (N, ..., num_features) -> y, same shape, each last-axis vector normalised."""
        x = check_input(self, x, "(N, ..., num_features)", num_features=self.num_features)
        x = x.astype(self.dtype, copy=False)
        mean = x.mean(axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + self.eps)
        self.x_hat = (x - mean) * self.inv_std
        return self.x_hat * self.params["gamma"] + self.params["beta"]

    def backward(self, dy):
        """dy (N, ..., num_features) -> dx, same shape; sets grads gamma and beta (num_features,),
        summed over every position."""
        x_hat = self._saved("x_hat")
        dy = self._check_dy(dy, x_hat.shape)
        leading = tuple(range(dy.ndim - 1))
        self.grads["gamma"] = (dy * x_hat).sum(axis=leading)
        self.grads["beta"] = dy.sum(axis=leading)
        return standardize_backward(dy * self.params["gamma"], x_hat, self.inv_std, -1)
