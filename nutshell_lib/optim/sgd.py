"""Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay."""
from __future__ import annotations

from ..ops import gpu_steps
from ..ops.device import is_device_array, to_gpu
from ..ops.validate import matching, named, real_number
from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's SGD (dampening 0). With g = grad + weight_decay * p:

        momentum 0:  p -= lr * g
        otherwise:   v = g on the first step, then v = momentum * v + g
                     p -= lr * v                      (classical)
                     p -= lr * (g + momentum * v)     (nesterov=True)
    """

    def __init__(self, model, lr, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(model, lr, weight_decay)
        with named("SGD"):
            momentum = real_number("momentum", momentum, at_least=0, below=1)
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _update(self, param, grad, lr, state):
        if is_device_array(param):
            with named("SGD"):
                grad = to_gpu(matching("grad", grad, param, "the parameter"))
            gpu_steps.sgd_update(param, grad, state, lr, self.momentum, self.nesterov, self.weight_decay)
            return
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = grad.astype(param.dtype, copy=True)
            else:
                state["velocity"] *= self.momentum
                state["velocity"] += grad
            grad = grad + self.momentum * state["velocity"] if self.nesterov else state["velocity"]
        param -= lr * grad
