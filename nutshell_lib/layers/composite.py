"""Layers made of named sub-layers, exposing their arrays under dotted names ("0.W", "branch3.1.b").

The children are the only record of what a composite holds: its ``params``, ``grads``,
``buffers`` and ``frozen`` are read-only views that look the arrays up in the children on every access, so they
can never fall out of step with them, and the arrays they return are the children's own.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from types import MappingProxyType

import numpy as np

from .base import Layer


class ChildArrays(Mapping):
    """The ``kind`` arrays ("params", "grads" or "buffers") of ``owner``'s children, keyed
    "child.name", e.g. "0.W"; nested composites give longer names, "1.branch3.2.W".

    Reading gives the child's live array, so in-place updates (``params["0.W"] -= lr * g``,
    ``params["0.W"][...] = value``) reach the child. Assigning another array or deleting a key
    raises: a replacement would not be the array the child computes with.
    """

    def __init__(self, owner: Composite, kind: str):
        self._owner, self._kind = owner, kind

    def _arrays_of(self, child: Layer) -> Mapping:
        return getattr(child, self._kind)

    def __getitem__(self, key: str) -> np.ndarray:
        name, dot, rest = key.partition(".") if isinstance(key, str) else ("", "", "")
        child = self._owner.children.get(name)
        if child is None or not dot:
            raise KeyError(key)
        return self._arrays_of(child)[rest]

    def __iter__(self) -> Iterator[str]:
        for name, child in self._owner.children.items():
            for key in self._arrays_of(child):
                yield f"{name}.{key}"

    def __len__(self) -> int:
        return sum(len(self._arrays_of(child)) for child in self._owner.children.values())

    def __setitem__(self, key, value):
        if key in self and self[key] is value:
            return  # ``params[key] -= step`` updates in place, then stores the same array back
        owner = type(self._owner).__name__
        raise TypeError(f"{owner}.{self._kind} is a read-only view of its parts' arrays, so "
                        f"{self._kind}[{key!r}] = ... cannot replace one; write into the array instead: "
                        f"{self._kind}[{key!r}][...] = value")

    def __delitem__(self, key):
        raise TypeError(f"{type(self._owner).__name__}.{self._kind} is a read-only view of its parts' arrays; "
                        f"{key!r} cannot be deleted")

    def __repr__(self) -> str:
        return repr(dict(self))


class ChildFrozen(Set):
    """The frozen parameter names of ``owner``'s children, keyed like ``ChildArrays`` ("0.W").

    Read-only: a parameter is frozen by freezing the layer that owns it (``freeze``), so the layer
    is the one place that records it.
    """

    def __init__(self, owner: Composite):
        self._owner = owner

    def __contains__(self, key) -> bool:
        name, dot, rest = key.partition(".") if isinstance(key, str) else ("", "", "")
        child = self._owner.children.get(name)
        return child is not None and bool(dot) and rest in child.frozen

    def __iter__(self) -> Iterator[str]:
        for name, child in self._owner.children.items():
            for key in child.frozen:
                yield f"{name}.{key}"

    def __len__(self) -> int:
        return sum(len(child.frozen) for child in self._owner.children.values())

    def __repr__(self) -> str:
        return repr(set(self))


class Composite(Layer):
    """A layer built from ``children``, a dict name -> layer (names without dots).

    ``children`` is read-only after construction; ``params``, ``grads`` and ``buffers`` are
    ``ChildArrays`` views keyed "child.name", whose arrays are the children's own (no copies), so
    an optimizer that updates ``model.params[...]`` in place updates the child layer; ``frozen``
    is the ``ChildFrozen`` view of the children's frozen names.
    """

    def __init__(self, children: dict[str, Layer]):
        owner = type(self).__name__
        for name, child in children.items():
            if not isinstance(name, str) or not name or "." in name:
                raise ValueError(f"{owner}: part names must be non-empty strings without dots, got {name!r}")
            if not isinstance(child, Layer):
                raise TypeError(f"{owner}: part {name!r} must be a Layer, got {type(child).__name__}")
        self.children = MappingProxyType(dict(children))
        super().__init__()

    def _new_arrays(self):
        return ChildArrays(self, "params"), ChildArrays(self, "grads"), ChildArrays(self, "buffers")

    def _new_frozen(self):
        return ChildFrozen(self)

    def to(self, device: str) -> "Composite":
        """Move every part's arrays to ``device`` (see ``Layer.to``) and return self."""
        for child in self.children.values():
            child.to(device)
        return self
