"""Gradient clipping by global norm: rescale all gradients together when their joint L2 norm is
too large, keeping the update's direction (how exploding RNN gradients are usually tamed)."""
from __future__ import annotations

import numpy as np

from ..ops.device import is_device_array


def clip_grad_norm(model, max_norm: float) -> float:
    """Scale ``model.grads`` in place so their global L2 norm is at most ``max_norm``.

    Frozen parameters (``model.frozen``) are left out: they take no step, so their gradients
    neither count towards the norm nor get scaled (as in PyTorch, where they have no gradient).
    Returns the norm before clipping. As in PyTorch, the factor is max_norm / (norm + 1e-6),
    applied only when it is below 1.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be positive, got {max_norm!r}")
    frozen = getattr(model, "frozen", ())
    grads = {name: grad for name, grad in model.grads.items() if name not in frozen}
    on_gpu = [name for name, grad in grads.items() if is_device_array(grad)]
    if on_gpu:
        raise TypeError(f"clip_grad_norm runs on the CPU only so far; the gradients {', '.join(on_gpu)} are GPU arrays")
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    factor = max_norm / (norm + 1e-6)
    if factor < 1:
        for g in grads.values():
            g *= factor
    return norm
