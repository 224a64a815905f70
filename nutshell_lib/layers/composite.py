"""Layers made of named sub-layers, exposing their arrays under dotted names ("0.W", "branch3.1.b")."""
from __future__ import annotations

import numpy as np

from .base import Layer


class Composite(Layer):
    """A layer built from ``children``, a dict name -> layer.

    ``params``, ``grads`` and ``buffers`` are gathered from the children on every access, keyed
    "child.name"; the arrays are the children's own (no copies), so an optimizer that updates
    ``model.params[...]`` in place updates the child layer.
    """

    def __init__(self, children: dict[str, Layer]):
        for name, child in children.items():
            if not isinstance(child, Layer):
                raise TypeError(f"{type(self).__name__}: part {name!r} must be a Layer, got {type(child).__name__}")
        self.children = dict(children)

    def _gather(self, kind: str) -> dict[str, np.ndarray]:
        return {f"{name}.{key}": array
                for name, child in self.children.items()
                for key, array in getattr(child, kind).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._gather("params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._gather("grads")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return self._gather("buffers")
