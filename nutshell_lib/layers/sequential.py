"""Sequential: layers applied one after another; arrays named "<index>.<name>", e.g. "0.W"."""
from __future__ import annotations

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
    parts are fixed when it is built); ``model[i]`` a layer."""

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential: needs at least one layer, got an empty list")
        super().__init__({str(index): layer for index, layer in enumerate(layers)})

    @property
    def layers(self) -> LayerTuple:
        return LayerTuple(self.children.values())

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.children)

    def __repr__(self) -> str:
        lines = [f"  ({index}) {layer!r}".replace("\n", "\n  ") for index, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def forward(self, x, training=True):
        for index, layer in enumerate(self.layers):
            try:
                x = layer.forward(x, training=training)
            except ValueError as error:
                raise ValueError(f"Sequential layer {index}: {error}") from error
        return x

    def backward(self, dy):
        layers = self.layers
        for index in reversed(range(len(layers))):
            try:
                dy = layers[index].backward(dy)
            except ValueError as error:
                raise ValueError(f"Sequential layer {index}: {error}") from error
        return dy
