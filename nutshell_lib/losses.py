"""Loss functions. Each returns ``(loss, dpred)``: the mean loss (a float) and its gradient with
respect to the prediction, with the prediction's shape and dtype, ready for ``model.backward``.

Losses that take logits (raw scores) fuse the final softmax or sigmoid into the loss: that is
exact even for logits of 1e4, where computing probabilities first would give log(0).

``gaussian_kl``, a VAE's KL term, has two inputs and so returns ``(loss, dmu, dlog_var)``.
"""
from __future__ import annotations

import numpy as np

from .ops import gpu_steps
from .ops.device import is_device_array
from .ops.elementwise import sigmoid
from .ops.validate import as_float_array


def _float_array(name: str, value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) over the last axis, by log-sum-exp with the maximum subtracted."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against the true classes.

    logits: (N, C) raw class scores. labels: (N,) integer classes in [0, C), or (N, C) target
    distributions (e.g. one-hot rows). Returns (loss, dlogits) with dlogits (N, C) =
    (softmax(logits) - target) / N. With logits a device array (N,) labels only, and dlogits is a
    device array (see ``ops.gpu_steps``).
    """
    on_gpu = is_device_array(logits)
    logits = as_float_array("logits", logits, logits.ndim, "(N, C)") if on_gpu else _float_array("logits", logits)
    if logits.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be (N, C), got shape {logits.shape}")
    N, C = logits.shape
    labels = np.asarray(labels)  # labels are small: on the GPU they come here to be checked
    if labels.shape == (N,):
        if labels.dtype.kind not in "iu" or (N and (labels.min() < 0 or labels.max() >= C)):
            raise ValueError(f"softmax_cross_entropy: labels (N,) must be integer classes in [0, {C}), "
                             f"got dtype {labels.dtype} with values in [{labels.min()}, {labels.max()}]")
        if on_gpu:
            return gpu_steps.softmax_cross_entropy(logits, labels)
        target = np.zeros_like(logits)
        target[np.arange(N), labels] = 1
    elif on_gpu:
        raise ValueError(f"softmax_cross_entropy: on the GPU, labels must be ({N},) integer classes so far, "
                         f"got shape {labels.shape}")
    elif labels.shape == (N, C):
        target = labels.astype(logits.dtype)
    else:
        raise ValueError(f"softmax_cross_entropy: labels must be ({N},) classes or ({N}, {C}) distributions "
                         f"to match logits {logits.shape}, got shape {labels.shape}")
    log_probs = log_softmax(logits)
    loss = -(target * log_probs).sum() / N
    dlogits = (np.exp(log_probs) - target) / N
    return float(loss), dlogits.astype(logits.dtype, copy=False)


def binary_cross_entropy(logits, targets):
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1].

    logits and targets have the same shape, e.g. (N,) or (N, 1) (or (N, K) for K independent
    labels); the mean is over all elements. Uses max(z, 0) - z t + log(1 + exp(-|z|)), which is
    -t log sigmoid(z) - (1 - t) log(1 - sigmoid(z)) rewritten so nothing overflows.
    Returns (loss, dlogits) with dlogits = (sigmoid(logits) - targets) / size.
    """
    logits = _float_array("logits", logits)
    targets = _float_array("targets", targets)
    if targets.shape != logits.shape:
        raise ValueError(f"binary_cross_entropy: targets must have the logits' shape {logits.shape}, got {targets.shape}")
    loss = (np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))).mean()
    probabilities = sigmoid(logits)
    dlogits = (probabilities - targets) / logits.size
    return float(loss), dlogits.astype(logits.dtype, copy=False)


def mse(pred, target):
    """Mean squared error, averaged over all elements (PyTorch's MSELoss default).

    pred and target have the same shape. Returns (loss, dpred) with dpred = 2 (pred - target) / size.
    """
    pred = _float_array("pred", pred)
    target = _float_array("target", target)
    if target.shape != pred.shape:
        raise ValueError(f"mse: target must have pred's shape {pred.shape}, got {target.shape}")
    error = pred - target
    return float((error ** 2).mean()), (2.0 * error / pred.size).astype(pred.dtype, copy=False)


def gaussian_kl(mu, log_var):
    """KL divergence of the diagonal Gaussian N(mu, exp(log_var)) from the standard normal N(0, I).

    mu, log_var: (N, L) (or (N, ...)) the mean and the log-variance of each example's Gaussian, as a
    VAE's encoder outputs them. Per example the divergence is the closed form
    KL = 1/2 sum_j (mu_j^2 + exp(log_var_j) - 1 - log_var_j), summed over all axes but the first;
    the loss is its mean over the N examples (batch-mean, as the other losses).
    exp(log_var) - 1 is computed as expm1(log_var), exact near log_var = 0 where the terms cancel.
    Returns (loss, dmu, dlog_var) with dmu = mu / N and dlog_var = (exp(log_var) - 1) / (2 N),
    each with the inputs' shape and dtype.
    """
    mu = _float_array("mu", mu)
    log_var = _float_array("log_var", log_var)
    if mu.ndim < 1 or log_var.shape != mu.shape:
        raise ValueError(f"gaussian_kl: mu and log_var must have the same shape (N, ...), "
                         f"got {mu.shape} and {log_var.shape}")
    N = mu.shape[0]
    grows = np.expm1(log_var)
    loss = 0.5 * (mu ** 2 + grows - log_var).sum() / N
    dmu = mu / N
    dlog_var = 0.5 * grows / N
    return float(loss), dmu.astype(mu.dtype, copy=False), dlog_var.astype(log_var.dtype, copy=False)
