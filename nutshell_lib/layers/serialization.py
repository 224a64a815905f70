"""Saving a model's arrays to a .npz file and loading them back into a model of the same shape,
or (``strict=False``) the part of a saved model that fits another one.

The file holds one array per name of ``model.params`` and ``model.buffers`` ("0.W",
"3.running_mean", ...). Loading copies into the model's live arrays, so an optimizer built
before the load keeps working on the loaded weights.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Layer


def state_of(model: Layer) -> dict[str, np.ndarray]:
    """Every saved array of ``model`` by name: parameters and buffers (live arrays, not copies)."""
    state = dict(model.params)
    for name, array in model.buffers.items():
        if name in state:
            raise ValueError(f"{model!r}: buffer {name!r} has the same name as a parameter")
        state[name] = array
    return state


def save(model: Layer, path) -> None:
    """Write the model's parameters and buffers to ``path`` (a .npz archive)."""
    np.savez(path, **state_of(model))


class Loaded(NamedTuple):
    """What ``load_into`` did, as sorted lists of array names."""
    loaded: list[str]       # copied from the file into the model
    missing: list[str]      # in the model, not in the file: left as they were
    unexpected: list[str]   # in the file, not in the model: ignored
    misshapen: list[str]    # in both with different shapes: left as they were ("name: model (..), file (..)")

    def __str__(self) -> str:
        parts = [f"loaded {len(self.loaded)} arrays"]
        parts += [f"{label} {names}" for label, names in (("missing", self.missing), ("unexpected", self.unexpected),
                                                          ("misshapen", self.misshapen)) if names]
        return "; ".join(parts)


def load_into(model: Layer, path, strict: bool = True) -> Loaded:
    """Copy the arrays saved in ``path`` into ``model``'s arrays of the same names, in place.

    strict=True: the file must hold exactly the model's arrays, with the same shapes; otherwise
    ValueError names the differences and nothing is changed. strict=False: copy every array whose
    name and shape match, leave the model's other arrays as they are and ignore the file's other
    arrays (e.g. a pretrained network whose last layer had another number of classes).

    Returns ``Loaded``: the names loaded, missing, unexpected and misshapen.
    """
    state = state_of(model)
    with np.load(path) as archive:
        saved = {name: archive[name] for name in archive.files}
    missing, unexpected = sorted(state.keys() - saved.keys()), sorted(saved.keys() - state.keys())
    misshapen = sorted(f"{name}: model {state[name].shape}, file {saved[name].shape}"
                       for name in state.keys() & saved.keys() if state[name].shape != saved[name].shape)
    if strict and (missing or unexpected):
        raise ValueError(f"{path}: does not match the model; missing arrays {missing}, unexpected arrays {unexpected}")
    if strict and misshapen:
        raise ValueError(f"{path}: array shapes differ from the model's: " + "; ".join(misshapen))
    loaded = sorted(name for name in state.keys() & saved.keys() if state[name].shape == saved[name].shape)
    for name in loaded:
        state[name][...] = saved[name]
    return Loaded(loaded, missing, unexpected, misshapen)
