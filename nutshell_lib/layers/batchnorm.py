"""Batch normalization (Ioffe & Szegedy 2015): normalize each feature over the batch, then scale
and shift by learned ``gamma`` and ``beta``. Evaluation uses running averages of the batch
statistics instead, so a prediction does not depend on the rest of its batch."""
from __future__ import annotations

import numpy as np

from .base import Layer, check_input
from .init import check_dtype, check_positive_int
from .normalize import standardize_backward


class _BatchNorm(Layer):
    """Shared by the 1-d and 2-d variants; they differ only in which axes are features.

    Running statistics follow PyTorch: running = (1 - momentum) * running + momentum * batch,
    with the unbiased batch variance for ``running_var`` (the biased one normalizes the batch).
    """

    layout = ""
    feature_axis = ""
    reduce_axes: tuple = ()

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32):
        super().__init__()
        name = f"{type(self).__name__}({num_features!r})"
        self.num_features = check_positive_int(name, "num_features", num_features)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1], got {momentum!r}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.dtype = check_dtype(name, dtype)
        self._add_param("gamma", np.ones(self.num_features, self.dtype))
        self._add_param("beta", np.zeros(self.num_features, self.dtype))
        self.buffers["running_mean"] = np.zeros(self.num_features, self.dtype)
        self.buffers["running_var"] = np.ones(self.num_features, self.dtype)
        self.x_hat = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def _per_feature(self, vector: np.ndarray, ndim: int) -> np.ndarray:
        """A (features,) vector reshaped to broadcast against the input, e.g. (1, C, 1, 1)."""
        return vector.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x, training=True):
        """x -> y of the same shape: gamma * (x - mean) / sqrt(var + eps) + beta per feature."""
        x = check_input(self, x, self.layout, **{self.feature_axis: self.num_features})
        x = x.astype(self.dtype, copy=False)
        count = x.size // self.num_features
        if training:
            if count < 2:
                raise ValueError(f"{self!r}: training needs more than one value per feature to take "
                                 f"batch statistics, got input {x.shape}")
            mean = x.mean(axis=self.reduce_axes)
            var = x.var(axis=self.reduce_axes)
            self.buffers["running_mean"] *= 1 - self.momentum
            self.buffers["running_mean"] += self.momentum * mean
            self.buffers["running_var"] *= 1 - self.momentum
            self.buffers["running_var"] += self.momentum * var * (count / (count - 1))
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.training = training
        self.inv_std = self._per_feature(1.0 / np.sqrt(var + self.eps), x.ndim).astype(self.dtype)
        self.x_hat = (x - self._per_feature(mean, x.ndim)) * self.inv_std
        return self.x_hat * self._per_feature(self.params["gamma"], x.ndim) + self._per_feature(self.params["beta"], x.ndim)

    def backward(self, dy):
        """dy -> dx, same shape; sets grads gamma and beta (features,).

        In training mode mean and variance depend on every input, which gives the three-term
        formula of ``standardize_backward``; in evaluation mode they are constants and dx = dy * gamma / std.
        """
        x_hat = self._saved("x_hat")
        dy = self._check_dy(dy, x_hat.shape)
        self.grads["gamma"] = (dy * x_hat).sum(axis=self.reduce_axes)
        self.grads["beta"] = dy.sum(axis=self.reduce_axes)
        dx_hat = dy * self._per_feature(self.params["gamma"], dy.ndim)
        if not self.training:
            return dx_hat * self.inv_std
        return standardize_backward(dx_hat, x_hat, self.inv_std, self.reduce_axes)


class BatchNorm1D(_BatchNorm):
    """Batch norm over x (N, D): statistics per feature d, taken over the batch."""

    layout = "(N, D)"
    feature_axis = "D"
    reduce_axes = (0,)


class BatchNorm2D(_BatchNorm):
    """Batch norm over x (N, C, H, W): statistics per channel c, taken over N, H and W."""

    layout = "(N, C, H, W)"
    feature_axis = "C"
    reduce_axes = (0, 2, 3)
