"""Freezing parameters: an optimizer skips the arrays named in ``model.frozen``, so they keep
their values bit for bit while the rest of the model trains (the frozen-feature half of
transfer learning).

A simple layer records its own frozen names in ``layer.frozen``; a composite's ``frozen`` is a
read-only view of its children's, so freezing a part is seen by every model that contains it.
Gradients still flow *through* a frozen layer to the layers below it, and its ``grads`` are
still computed; they are just never applied.
"""
from __future__ import annotations

from collections.abc import Iterator

from .base import Layer
from .composite import Composite


def _simple_parts(function: str, layer) -> Iterator[Layer]:
    """The layers that hold their own parameters: ``layer`` itself, or every part of a composite."""
    if not isinstance(layer, Layer):
        raise TypeError(f"{function}: expected a Layer (a layer or a composite such as Sequential), "
                        f"got {type(layer).__name__}")
    if isinstance(layer, Composite):
        for child in layer.children.values():
            yield from _simple_parts(function, child)
    else:
        yield layer


def freeze(layer: Layer) -> Layer:
    """Freeze every parameter of ``layer`` (all its parts' for a composite); returns ``layer``."""
    for part in _simple_parts("freeze", layer):
        part.frozen.update(part.params)
    return layer


def unfreeze(layer: Layer) -> Layer:
    """Make every parameter of ``layer`` trainable again; returns ``layer``."""
    for part in _simple_parts("unfreeze", layer):
        part.frozen.clear()
    return layer


def trainable_names(model: Layer) -> list[str]:
    """The names of ``model.params`` that an optimizer updates (those not frozen), in order."""
    if not isinstance(model, Layer):
        raise TypeError(f"trainable_names: expected a Layer, got {type(model).__name__}")
    return [name for name in model.params if name not in model.frozen]
