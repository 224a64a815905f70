"""What batch norm and layer norm share: the gradient through x_hat = (x - mean) / sqrt(var + eps)
when mean and (biased) var are taken over the same values as x_hat."""
from __future__ import annotations

import numpy as np


def standardize_backward(dx_hat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, axes) -> np.ndarray:
    """dL/dx from dL/dx_hat, where x_hat = (x - mean) * inv_std with mean and var over ``axes``.

    dx_hat, x_hat: the input's shape; inv_std: 1 / sqrt(var + eps), broadcastable to it (size 1
    along ``axes``). Since mean and var depend on every x they were taken over, the gradient has
    three terms: inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)).
    """
    mean_dx_hat = dx_hat.mean(axis=axes, keepdims=True)
    mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=axes, keepdims=True)
    return (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat) * inv_std
