"""The optimizer base class: walks the model's parameters and updates each in place."""
from __future__ import annotations

import numpy as np

from ..ops.validate import named, real_number
from .schedules import as_schedule


class Optimizer:
    """Updates ``model.params`` in place from ``model.grads`` on each ``step()``, except the
    parameters named in ``model.frozen`` (see ``layers.freeze``), which keep their values and get
    no optimizer state while frozen.

    ``lr`` is a number or a schedule (``lr_at(step)``); ``steps`` counts the steps taken.
    Per-parameter state (momentum, moment estimates) is kept by parameter name in ``state``.
    """

    def __init__(self, model, lr, weight_decay: float = 0.0):
        if not (hasattr(model, "params") and hasattr(model, "grads")):
            raise TypeError(f"{type(self).__name__}: model must have params and grads dicts, got {type(model).__name__}")
        with named(type(self).__name__):
            self.weight_decay = real_number("weight_decay", weight_decay, at_least=0)
            self.schedule = as_schedule(lr)
        self.model = model
        self.steps = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    @property
    def lr(self) -> float:
        """The rate the next ``step()`` will use."""
        return self.schedule.lr_at(self.steps)

    def step(self) -> None:
        """Apply one update to every parameter, using the gradients of the last backward."""
        lr = self.lr
        grads = self.model.grads
        frozen = getattr(self.model, "frozen", ())
        for name, param in self.model.params.items():
            if name in frozen:
                continue
            self._update(param, grads[name], lr, self.state.setdefault(name, {}))
        self.steps += 1

    def _update(self, param: np.ndarray, grad: np.ndarray, lr: float, state: dict) -> None:
        raise NotImplementedError
