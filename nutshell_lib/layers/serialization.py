"""Saving a model's arrays to a .npz file and loading them back into a model of the same shape.

The file holds one array per name of ``model.params`` and ``model.buffers`` ("0.W",
"3.running_mean", ...). Loading copies into the model's live arrays, so an optimizer built
before the load keeps working on the loaded weights.
"""
from __future__ import annotations

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


def load_into(model: Layer, path) -> None:
    """Copy the arrays saved in ``path`` into ``model``'s arrays, in place.

    Raises ValueError naming the arrays when names or shapes differ; nothing is changed then.
    """
    state = state_of(model)
    with np.load(path) as archive:
        saved = {name: archive[name] for name in archive.files}
    missing, unexpected = sorted(state.keys() - saved.keys()), sorted(saved.keys() - state.keys())
    if missing or unexpected:
        raise ValueError(f"{path}: does not match the model; missing arrays {missing}, unexpected arrays {unexpected}")
    wrong = [f"{name}: model {state[name].shape}, file {saved[name].shape}"
             for name in state if state[name].shape != saved[name].shape]
    if wrong:
        raise ValueError(f"{path}: array shapes differ from the model's: " + "; ".join(wrong))
    for name, array in state.items():
        array[...] = saved[name]
