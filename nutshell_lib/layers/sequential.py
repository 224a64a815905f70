"""Sequential: layers applied one after another; arrays named "<index>.<name>", e.g. "0.W"."""
from __future__ import annotations

from collections.abc import Mapping

from ..ops.validate import named
from .composite import Composite


class LayerTuple(tuple):
    """A Sequential's layers: a tuple whose list methods explain how to get a longer model, since
    appending to a running model would leave its parameters out of the optimizer's sight."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("Sequential.layers is read-only; build a new model from the old layers instead, "
                        "e.g. Sequential([*model.layers, Dense(8, 3)]), and a new optimizer for it")

    append = extend = insert = remove = pop = clear = sort = reverse = __setitem__ = __delitem__ = _refuse


class Sequential(Composite):
    """``Sequential([Dense(4, 8), ReLU(), Dense(8, 3)])``: forward runs the layers in order,
    backward runs their backwards in reverse. ``model.layers`` is a tuple (read-only: the model's
    parts are fixed when it is built); ``model[i]`` a layer.

    The layers are named by their index ("0.W"); a dict name -> layer instead names them itself,
    in its order: ``Sequential({"encoder": Dense(4, 8), "head": Dense(8, 2)})`` has arrays
    "encoder.W", ..., "head.b".
    """

    def __init__(self, layers):
        named = dict(layers) if isinstance(layers, Mapping) else {str(i): layer for i, layer in enumerate(layers)}
        if not named:
            raise ValueError("Sequential: needs at least one layer, got an empty list")
        super().__init__(named)

    @property
    def layers(self) -> LayerTuple:
        return LayerTuple(self.children.values())

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.children)

    def __repr__(self) -> str:
        lines = [f"  ({name}) {layer!r}".replace("\n", "\n  ") for name, layer in self.children.items()]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def forward(self, x, training=True):
        for name, layer in self.children.items():
            with named(f"{type(self).__name__} layer {name}"):
                x = layer.forward(x, training=training)
        return x

    def backward(self, dy):
        for name, layer in reversed(self.children.items()):
            with named(f"{type(self).__name__} layer {name}"):
                dy = layer.backward(dy)
        return dy
