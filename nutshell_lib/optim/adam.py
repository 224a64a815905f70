"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    """PyTorch's Adam. With g = grad + weight_decay * p (L2 penalty folded into the gradient):

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g**2
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    t counts steps from 1; the two (1 - beta**t) factors undo the zero start of m and v.
    """

    decoupled = False

    def __init__(self, model, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(model, lr, weight_decay)
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"{type(self).__name__}: eps must be positive, got {eps!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, param, grad, lr, state):
        if self.weight_decay:
            if self.decoupled:
                param *= 1.0 - lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * param
        if not state:
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        t = self.steps + 1
        denominator = np.sqrt(v) / np.sqrt(1.0 - self.beta2 ** t) + self.eps
        param -= (lr / (1.0 - self.beta1 ** t)) * m / denominator


class AdamW(Adam):
    """Adam with decoupled weight decay: first p *= 1 - lr * weight_decay, then the Adam step on
    the plain gradient (PyTorch's AdamW; default weight_decay 0.01)."""

    decoupled = True

    def __init__(self, model, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(model, lr, betas, eps, weight_decay)
