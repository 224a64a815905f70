"""A loss curve redrawn in place after every epoch, in a Jupyter notebook.

It renders with matplotlib's object API to PNG and updates one IPython display, so it does not
depend on the pyplot backend. Outside a notebook (a terminal, CI) it warns once and draws nothing.
"""
from __future__ import annotations

import io
import warnings


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class LiveLossPlot:
    def __init__(self):
        self.enabled = _in_notebook()
        if not self.enabled:
            warnings.warn("live_plot=True needs a Jupyter notebook; training continues without the plot", stacklevel=3)
            return
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 3.2))
        self.loss_axes = self.figure.subplots()
        self.handle = None  # the first update displays the image; later ones replace it

    def update(self, history) -> None:
        """Redraw the training (and validation) loss per epoch from ``history``."""
        if not self.enabled:
            return
        from IPython.display import Image, display

        axes = self.loss_axes
        axes.clear()
        epochs = range(1, history.epochs + 1)
        axes.plot(epochs, history.loss, marker="o", label="training loss")
        if history.val_loss:
            axes.plot(epochs, history.val_loss, marker="o", label="validation loss")
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss")
        axes.legend()
        self.figure.tight_layout()
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        image = Image(data=buffer.getvalue(), format="png")
        if self.handle is None:
            self.handle = display(image, display_id=True)
        else:
            self.handle.update(image)
