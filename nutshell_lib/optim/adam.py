"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019)."""
from __future__ import annotations

import numpy as np

from ..ops import gpu_steps
from ..ops.device import is_device_array, to_gpu
from ..ops.validate import matching, named, real_number
from .optimizer import Optimizer


class Adam(Optimizer):
    """PyTorch's Adam. With g = grad + weight_decay * p (L2 penalty folded into the gradient):

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g**2
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    t counts this parameter's steps from 1 (as PyTorch's per-parameter ``step``; it differs from
    the optimizer's count only for a parameter that was frozen for a while); the two
    (1 - beta**t) factors undo the zero start of m and v.

    A parameter on the GPU (``model.to("cuda")``) is updated there by one fused kernel
    (``ops.gpu_steps.adam_update``), with m and v kept on the GPU too.
    """

    decoupled = False

    def __init__(self, model, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(model, lr, weight_decay)
        with named(type(self).__name__):
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
            self.beta1 = real_number("beta1", betas[0], at_least=0, below=1)
            self.beta2 = real_number("beta2", betas[1], at_least=0, below=1)
            self.eps = real_number("eps", eps, above=0)

    def _update(self, param, grad, lr, state):
        if is_device_array(param):
            with named(type(self).__name__):
                grad = to_gpu(matching("grad", grad, param, "the parameter"))
            gpu_steps.adam_update(param, grad, state, lr, self.beta1, self.beta2, self.eps, self.weight_decay,
                                  self.decoupled)
            return
        if self.weight_decay:
            if self.decoupled:
                param *= 1.0 - lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * param
        if not state:
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
            state["t"] = 0
        state["t"] += 1
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        t = state["t"]
        denominator = np.sqrt(v) / np.sqrt(1.0 - self.beta2 ** t) + self.eps
        param -= (lr / (1.0 - self.beta1 ** t)) * m / denominator


class AdamW(Adam):
    """Adam with decoupled weight decay: first p *= 1 - lr * weight_decay, then the Adam step on
    the plain gradient (PyTorch's AdamW; default weight_decay 0.01)."""

    decoupled = True

    def __init__(self, model, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(model, lr, betas, eps, weight_decay)
