"""Sequential: layers applied one after another; arrays named "<index>.<name>", e.g. "0.W"."""
from __future__ import annotations

from .composite import Composite


class Sequential(Composite):
    """``Sequential([Dense(4, 8), ReLU(), Dense(8, 3)])``: forward runs the layers in order,
    backward runs their backwards in reverse. ``model.layers`` is the list; ``model[i]`` a layer."""

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential: needs at least one layer, got an empty list")
        super().__init__({str(index): layer for index, layer in enumerate(layers)})
        self.layers = layers

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

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
        for index in reversed(range(len(self.layers))):
            try:
                dy = self.layers[index].backward(dy)
            except ValueError as error:
                raise ValueError(f"Sequential layer {index}: {error}") from error
        return dy
