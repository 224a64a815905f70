"""Learning-rate schedules: objects with ``lr_at(step)``, the rate for optimizer step ``step``
(0 for the first ``step()`` call). They compose: ``Warmup(Cosine(0.1, 1000), 100)`` warms up
for 100 steps, then follows the cosine curve from its start. Steps are optimizer steps (batches),
not epochs."""
from __future__ import annotations

import math
import numbers

from ..ops.validate import int_at_least, real_number


class Constant:
    """The same rate at every step."""

    def __init__(self, lr: float):
        self.lr = real_number("Constant: lr", lr, at_least=0)

    def lr_at(self, step: int) -> float:
        return self.lr

    def __repr__(self) -> str:
        return f"Constant({self.lr})"


class StepDecay:
    """lr * gamma ** (step // step_size): multiply by ``gamma`` every ``step_size`` steps (PyTorch's StepLR)."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1):
        self.lr = real_number("StepDecay: lr", lr, at_least=0)
        self.step_size = int_at_least("StepDecay: step_size", step_size, 1)
        self.gamma = real_number("StepDecay: gamma", gamma, at_least=0)

    def lr_at(self, step: int) -> float:
        return self.lr * self.gamma ** (step // self.step_size)

    def __repr__(self) -> str:
        return f"StepDecay({self.lr}, step_size={self.step_size}, gamma={self.gamma})"


class Cosine:
    """Half a cosine from ``lr`` at step 0 down to ``min_lr`` at ``total_steps``, then flat
    (PyTorch's CosineAnnealingLR with T_max = total_steps, without restarts)."""

    def __init__(self, lr: float, total_steps: int, min_lr: float = 0.0):
        self.lr = real_number("Cosine: lr", lr, at_least=0)
        self.total_steps = int_at_least("Cosine: total_steps", total_steps, 1)
        self.min_lr = real_number("Cosine: min_lr", min_lr, at_least=0)

    def lr_at(self, step: int) -> float:
        progress = min(step, self.total_steps) / self.total_steps
        return self.min_lr + (self.lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def __repr__(self) -> str:
        return f"Cosine({self.lr}, total_steps={self.total_steps}, min_lr={self.min_lr})"


class Warmup:
    """Linear warm-up into another schedule: for step < warmup_steps the rate is
    ``after.lr_at(0) * (step + 1) / warmup_steps``; from then on ``after.lr_at(step - warmup_steps)``.
    A float for ``after`` means a constant rate."""

    def __init__(self, after, warmup_steps: int):
        self.after = as_schedule(after)
        self.warmup_steps = int_at_least("Warmup: warmup_steps", warmup_steps, 1)

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.after.lr_at(0) * (step + 1) / self.warmup_steps
        return self.after.lr_at(step - self.warmup_steps)

    def __repr__(self) -> str:
        return f"Warmup({self.after!r}, warmup_steps={self.warmup_steps})"


def as_schedule(lr):
    """A schedule as is, or a number as a Constant schedule."""
    if hasattr(lr, "lr_at"):
        return lr
    if isinstance(lr, numbers.Real) and not isinstance(lr, bool):
        return Constant(lr)
    raise TypeError(f"lr must be a number or a schedule with lr_at(step), got {type(lr).__name__}")
