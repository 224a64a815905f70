"""The reparameterisation trick of a variational autoencoder: a sample z ~ N(mu, exp(log_var))
written as z = mu + exp(log_var / 2) * eps with eps ~ N(0, I) drawn apart from the parameters, so
that the gradient flows from z back to mu and log_var (the randomness sits in eps, which has none).
"""
from __future__ import annotations

import numpy as np

from .base import Layer, check_input
from .init import make_rng


def _pair(mu, log_var, caller: str) -> tuple[np.ndarray, np.ndarray]:
    mu, log_var = np.asarray(mu), np.asarray(log_var)
    for name, array in (("mu", mu), ("log_var", log_var)):
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{caller}: {name} must hold real numbers, got dtype {array.dtype}")
    if mu.shape != log_var.shape:
        raise ValueError(f"{caller}: mu and log_var must have the same shape, got {mu.shape} and {log_var.shape}")
    return mu, log_var


def reparameterize(mu, log_var, rng):
    """Draw z ~ N(mu, diag(exp(log_var))) as a differentiable function of mu and log_var.

    mu, log_var: arrays of the same shape, e.g. (N, L): the mean and log-variance of each latent.
    rng: an int seed or a numpy.random.Generator that draws eps.
    Returns (z, eps), both of that shape: z = mu + exp(log_var / 2) * eps, eps ~ N(0, 1). Keep eps
    for ``reparameterize_backward``.
    """
    mu, log_var = _pair(mu, log_var, "reparameterize")
    dtype = np.result_type(mu.dtype, log_var.dtype, np.float32)
    eps = make_rng(rng).standard_normal(mu.shape).astype(dtype)
    return mu + np.exp(0.5 * log_var) * eps, eps


def reparameterize_backward(dz, eps, log_var):
    """Backward pass of ``reparameterize``.

    dz: dL/dz; eps: the noise the forward drew; log_var: the forward's log-variance; all one shape.
    Returns (dmu, dlog_var): dmu = dz (z moves one for one with mu) and
    dlog_var = dz * eps * exp(log_var / 2) / 2 (= dz * (z - mu) / 2).
    """
    dz, log_var = _pair(dz, log_var, "reparameterize_backward")
    eps = np.asarray(eps)
    if eps.shape != dz.shape:
        raise ValueError(f"reparameterize_backward: eps must have dz's shape {dz.shape}, got {eps.shape}")
    return dz, dz * eps * 0.5 * np.exp(0.5 * log_var)


class GaussianSample(Layer):
    """The sampling step of a VAE as a layer: x = [mu, log_var] -> z.

    The input x (N, ..., 2L) holds mu in its first L features and log_var in its last L, as one
    Dense(hidden, 2L) produces them; the output is z (N, ..., L). In training each forward draws a
    fresh eps from ``rng`` (kept in ``eps`` for backward and for plotting); with ``training=False``
    it returns the mean mu, the usual choice for encoding. No parameters. The KL term's gradient
    is not part of this layer: add ``losses.gaussian_kl``'s dmu, dlog_var (concatenated on the
    last axis) to what ``backward`` returns.
    """

    def __init__(self, *, rng=None):
        super().__init__()
        self.rng = make_rng(rng)
        self.eps = self.log_var = None

    def __repr__(self) -> str:
        return "GaussianSample()"

    def forward(self, x, training=True):
        """x (N, ..., 2L) = [mu, log_var] -> z (N, ..., L): mu + exp(log_var / 2) * eps, or mu in evaluation."""
        x = check_input(self, x, "(N, ..., features)")
        if x.shape[-1] % 2:
            raise ValueError(f"{self!r}: the last axis holds [mu, log_var], so its length must be even, got shape {x.shape}")
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        mu, log_var = np.split(x, 2, axis=-1)
        if training:
            z, self.eps = reparameterize(mu, log_var, self.rng)
        else:
            z, self.eps = mu, np.zeros_like(mu)
        self.log_var = log_var
        return z

    def backward(self, dy):
        """dy (N, ..., L) = dL/dz -> dx (N, ..., 2L) = [dL/dmu, dL/dlog_var] (the sampling part only)."""
        eps, log_var = self._saved("eps", "log_var")
        dy = self._check_dy(dy, eps.shape)
        return np.concatenate(reparameterize_backward(dy, eps, log_var), axis=-1)
