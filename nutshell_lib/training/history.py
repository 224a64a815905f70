"""What ``fit`` records per epoch."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch training loss and accuracy, and the same on the validation set when one is given.

    Accuracy lists stay empty when the labels are not classes. ``best_epoch`` (0-based) is the
    epoch whose weights early stopping restored; ``stopped_early`` whether it cut training short.
    """

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def summary(self) -> str:
        """The last epoch's numbers on one line."""
        parts = [f"epoch {self.epochs}", f"loss {self.loss[-1]:.4f}"] if self.loss else ["no epochs"]
        for name in ("accuracy", "val_loss", "val_accuracy"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name} {values[-1]:.4f}")
        return ", ".join(parts)
