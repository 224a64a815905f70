"""Checking backward passes against float64 central differences.

``gradcheck`` perturbs every entry of the inputs and of every parameter by +-h, measures the
change in a scalar loss, and compares (L(a + h) - L(a - h)) / 2h with the gradient the code under
test computed. Three kinds of things can be checked:

- a layer: the loss is sum(layer.forward(x) * dy) for a fixed random dy, and the analytic
  gradients are ``layer.backward(dy)`` and ``layer.grads`` (an integer input, such as an
  embedding's token ids, has no gradient: only the parameters are checked then);
- a pair ``(forward, backward)`` of functions with CS231n-style arguments: ``forward(*inputs)``
  returns y and ``backward(dy, *inputs)`` returns a tuple with one gradient per input, in the
  inputs' order (entries for inputs not in ``wrt`` are ignored);
- a scalar function ``f(*inputs) -> (loss, grads)`` (a loss function, say), with ``grads`` such
  a tuple, or just the gradient array when ``wrt`` names one input.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Mismatch:
    """The worst entry of one checked array."""

    array: str
    index: tuple
    analytic: float
    numeric: float
    relative_error: float
    score: float  # |analytic - numeric| / (atol + rtol * max(|analytic|, |numeric|)); > 1 fails

    def describe(self) -> str:
        index = ", ".join(str(i) for i in self.index)
        return (f"{self.array}[{index}]: analytic {self.analytic:.6g}, numeric {self.numeric:.6g}, "
                f"relative error {self.relative_error:.2e}")


@dataclass
class GradcheckResult:
    """Outcome of a gradient check; true when every entry passed. ``report()`` explains it."""

    arrays: list[Mismatch] = field(default_factory=list)  # the worst entry of each array
    rtol: float = 1e-5
    atol: float = 1e-8

    @property
    def worst(self) -> Mismatch | None:
        return max(self.arrays, key=lambda m: m.score, default=None)

    @property
    def ok(self) -> bool:
        return all(m.score <= 1 for m in self.arrays)

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        verdict = "gradcheck passed" if self.ok else "gradcheck FAILED"
        lines = [f"{verdict} (rtol={self.rtol:g}, atol={self.atol:g}); worst entry of each array:"]
        for m in sorted(self.arrays, key=lambda m: -m.score):
            lines.append(f"  {'ok  ' if m.score <= 1 else 'FAIL'} {m.describe()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _compare(name: str, indices, analytic: np.ndarray, numeric: np.ndarray, rtol: float, atol: float) -> Mismatch:
    """The worst of the entries at ``indices``; ``analytic`` and ``numeric`` hold their values."""
    difference = np.abs(analytic - numeric)
    magnitude = np.maximum(np.abs(analytic), np.abs(numeric))
    scores = difference / (atol + rtol * magnitude)
    k = int(np.argmax(scores))
    relative = difference[k] / max(magnitude[k], np.finfo(np.float64).tiny)
    return Mismatch(name, tuple(int(i) for i in indices[k]), float(analytic[k]), float(numeric[k]),
                    float(relative), float(scores[k]))


def _numeric_gradient(loss, array: np.ndarray, h: float, indices) -> np.ndarray:
    """Central differences of ``loss()`` with respect to ``array`` at ``indices`` (perturbed in place)."""
    gradient = np.empty(len(indices))
    for k, index in enumerate(indices):
        original = array[index]
        array[index] = original + h
        plus = loss()
        array[index] = original - h
        minus = loss()
        array[index] = original
        gradient[k] = (plus - minus) / (2 * h)
    return gradient


def _chosen_indices(shape, max_entries, rng):
    """All indices of ``shape``, or a random sample of ``max_entries`` of them."""
    size = int(np.prod(shape))
    flat = range(size) if max_entries is None or size <= max_entries else rng.choice(size, max_entries, replace=False)
    return [np.unravel_index(int(i), shape) for i in flat]


def gradcheck(target, inputs, *, wrt=(0,), training=True, h=1e-6, rtol=1e-5, atol=1e-8,
              max_entries=None, seed=0, raise_on_failure=False) -> GradcheckResult:
    """Compare analytic gradients with float64 central differences.

    target: a layer, a ``(forward, backward)`` pair, or a scalar function returning (loss, grads)
        (see the module docstring).
    inputs: an array, or a tuple of arguments (arrays are copied to float64; other arguments,
        such as integer labels, are passed through).
    wrt: positions in ``inputs`` to differentiate (functions only; a layer checks its input
        when that is a float array).
    training: passed to a layer's forward.
    h: the finite-difference step. rtol, atol: an entry fails when
        |analytic - numeric| > atol + rtol * max(|analytic|, |numeric|).
    max_entries: check at most this many random entries per array (None: all).
    seed: seeds dy and the sampled entries.
    raise_on_failure: raise AssertionError with the report instead of returning a failed result.

    A layer's parameters must be float64 (build it with ``dtype=np.float64``): float32 rounding
    would swamp the differences. Returns a GradcheckResult, true when all entries pass.
    """
    rng = np.random.default_rng(seed)
    args = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    args = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]
    if hasattr(target, "forward") and hasattr(target, "backward"):
        checked, loss, analytic = _layer_problem(target, args, training, rng)
    else:
        checked, loss, analytic = _function_problem(target, args, wrt, rng)
    result = GradcheckResult(rtol=rtol, atol=atol)
    for name, array in checked.items():
        grad = np.asarray(analytic[name], dtype=np.float64)
        if grad.shape != array.shape:
            raise ValueError(f"gradcheck: the analytic gradient of {name} has shape {grad.shape}, "
                             f"but {name} has shape {array.shape}")
        if array.size == 0:
            continue
        indices = _chosen_indices(array.shape, max_entries, rng)
        numeric = _numeric_gradient(loss, array, h, indices)
        values = np.array([grad[index] for index in indices])
        result.arrays.append(_compare(name, indices, values, numeric, rtol, atol))
    if raise_on_failure and not result:
        raise AssertionError(result.report())
    return result


def _layer_problem(layer, args, training, rng):
    """Arrays to perturb, the scalar loss, and the analytic gradients, for a layer."""
    not_float64 = [name for name, p in layer.params.items() if p.dtype != np.float64]
    if not_float64:
        raise TypeError(f"gradcheck: {layer!r} has parameters {not_float64} that are not float64; "
                        "build the layer with dtype=np.float64")
    x = args[0]
    y = layer.forward(x, training=training)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy.copy())
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    checked = dict(layer.params)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        if dx is None:
            raise TypeError(f"gradcheck: {layer!r}.backward returned None for a float input, so there is no "
                            "input gradient to check")
        analytic["input"] = dx
        checked = {"input": x, **checked}

    def loss():
        return float(np.sum(layer.forward(x, training=training) * dy))

    return checked, loss, analytic


def _function_problem(target, args, wrt, rng):
    """Arrays to perturb, the scalar loss, and the analytic gradients, for functions."""
    for position in wrt:
        if not (isinstance(args[position], np.ndarray) and args[position].dtype == np.float64):
            raise TypeError(f"gradcheck: input {position} is listed in wrt but is not a float array")
    if isinstance(target, tuple):
        forward, backward = target
        dy = rng.standard_normal(np.shape(forward(*args)))
        grads = backward(dy.copy(), *args)

        def loss():
            return float(np.sum(forward(*args) * dy))
    else:
        _, grads = target(*args)

        def loss():
            return float(target(*args)[0])
    if isinstance(grads, np.ndarray):
        if len(wrt) != 1:
            raise ValueError(f"gradcheck: got one gradient array for the inputs {tuple(wrt)}; return one per input")
        grads = {wrt[0]: grads}
    checked = {f"input {position}": args[position] for position in wrt}
    analytic = {f"input {position}": grads[position] for position in wrt}
    return checked, loss, analytic
