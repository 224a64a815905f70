"""The layer protocol every layer follows, and the base class that gives it for free.

A layer is an object with

- ``forward(x, training=True) -> y``: computes the output and remembers what backward needs;
- ``backward(dy) -> dx``: given dL/dy, returns dL/dx and sets ``grads`` (dL/d each parameter);
- ``params``: a mapping name -> array of the trainable parameters. These are the live arrays the
  layer computes with, so an optimizer updates them in place (``W -= lr * dW``);
- ``grads``: a mapping with the same keys. Each backward replaces its arrays (nothing accumulates);
- ``buffers``: a mapping of state that is saved with the model but not trained (BatchNorm's running
  statistics); empty for most layers;
- ``frozen``: the names of the parameters that optimizers leave alone (``freeze``/``unfreeze``);
  empty unless frozen.

A simple layer's mappings are dicts it fills itself; a composite's are read-only views of its
children's (see ``composite``). ``backward`` never writes into ``dy`` and returns the same result
when called twice in a row.
"""
from __future__ import annotations

import numpy as np

from ..ops.device import is_device_array, resolve_device, to_gpu


class Layer:
    """Base class: a layer without parameters. Subclasses override forward and backward."""

    def __init__(self) -> None:
        self.params, self.grads, self.buffers = self._new_arrays()
        self.frozen = self._new_frozen()

    def _new_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Empty params, grads and buffers dicts, which the layer fills; composites return views instead."""
        return {}, {}, {}

    def _new_frozen(self) -> set[str]:
        """The set of frozen parameter names, which ``freeze`` fills; composites return a view instead."""
        return set()

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        return self.forward(x, training=training)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _add_param(self, name: str, value: np.ndarray) -> None:
        """Register a trainable array; its gradient starts as zeros so ``grads`` always has the same keys."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def _saved(self, *names: str):
        """The arrays forward stored for backward, or a clear error when forward has not run."""
        try:
            values = tuple(getattr(self, name) for name in names)
        except AttributeError:
            values = (None,)
        if any(value is None for value in values):
            raise RuntimeError(f"{self!r}: backward was called before forward")
        return values if len(values) > 1 else values[0]

    def to(self, device: str) -> "Layer":
        """Move the parameters, gradients and buffers to ``device`` ("cuda" or "cpu") and return self.

        On "cuda" they become device arrays, so forward and backward run on the GPU when given a
        device-array input (the ops follow the data, see ``ops.device``) and an optimizer made
        afterwards updates them there. Create the optimizer after ``to``: it keeps per-parameter
        state by name, on the device the parameters were on.
        """
        if device not in ("cpu", "cuda"):
            raise ValueError(f"{self!r}: to() takes 'cpu' or 'cuda', got {device!r}")
        if device == "cuda":
            resolve_device("cuda")  # a clear error where CUDA is not usable
        for arrays in (self.params, self.grads, self.buffers):
            for name, array in arrays.items():
                arrays[name] = to_gpu(array) if device == "cuda" else to_host(array)
        return self

    def _check_dy(self, dy, expected_shape: tuple) -> np.ndarray:
        dy = as_array(dy)
        if dy.shape != tuple(expected_shape):
            raise ValueError(f"{self!r}: backward expected dy of the output's shape {tuple(expected_shape)}, got {dy.shape}")
        return dy


def check_input(layer: Layer, x, layout: str, **sizes: int) -> np.ndarray:
    """Validate the input of ``layer``: the dimensions ``layout`` names and, for each named axis, a
    fixed size.

    ``layout`` names the axes, e.g. ``"(N, C, H, W)"``; an axis ``...`` stands for any number of
    axes, none included, e.g. ``"(N, ..., in_features)"``. ``sizes`` maps an axis name to its
    required length, e.g. ``C=3``. The error shows what was expected, e.g.
    ``Dense(4 -> 3): expected input (N, ..., 4), got (2, 5)``.
    """
    x = as_array(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{layer!r}: expected a real-valued input array, got dtype {x.dtype}")
    axes = [axis.strip() for axis in layout.strip("()").split(",")]
    if "..." in axes:
        rank_fits = x.ndim >= len(axes) - 1
        split = axes.index("...")
        # axes after the "..." are counted from the end
        position = {axis: index if index < split else index - len(axes) for index, axis in enumerate(axes)}
    else:
        rank_fits = x.ndim == len(axes)
        position = {axis: index for index, axis in enumerate(axes)}
    shape = tuple(x.shape)  # the simulator's device arrays take no negative index into their shape
    if not rank_fits or any(shape[position[name]] != size for name, size in sizes.items()):
        expected = "(" + ", ".join(str(sizes.get(axis, axis)) for axis in axes) + ")"
        raise ValueError(f"{layer!r}: expected input {expected}, got {shape}")
    return x


def as_array(x):
    """``x`` as an array where it is: a device array as it is (never copied to the host), else NumPy."""
    return x if is_device_array(x) else np.asarray(x)


def to_host(array):
    """A device array copied to a NumPy array; a NumPy array as it is."""
    return array.copy_to_host() if is_device_array(array) else array


def cast(x, dtype):
    """``x`` in ``dtype``: a NumPy array converted (no copy when it has it), a device array as it is
    (the ops refuse one of another dtype with a clear error rather than convert it on the GPU)."""
    return x if is_device_array(x) else x.astype(dtype, copy=False)


def flat_rows(x, width: int):
    """``x`` (..., width) as a (rows, width) matrix: a view for contiguous arrays, on either device."""
    return x.reshape(x.size // width, width)
