"""The fully connected (affine) map y = x @ w + b, forward and backward, on the kit's threads.

Shapes: x (N, D) inputs, w (D, M) weights, b (M,) biases, y and dy (N, M).

These are two or three BLAS products. Each of the kit's threads takes a block of the batch's rows
and runs its products with the BLAS on one thread (see ``threads`` for why), so that a network
of conv, pooling and dense layers keeps exactly as many threads busy as there are cores.
"""
from __future__ import annotations

import numpy as np

from .threads import MULTIPLY_ADDS_PER_ELEMENT, run_blas_in_blocks
from .validate import as_float_array


def _check(x, w):
    x = as_float_array("x", x, 2, "(N, D)")
    w = as_float_array("w", w, 2, "(D, M)", dtype=x.dtype)
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w (D, M) has D = {w.shape[0]} rows but x (N, D) has D = {x.shape[1]} columns: "
                         f"x has shape {x.shape}, w has shape {w.shape}")
    return x, w


def _work(x, w) -> int:
    return x.shape[0] * x.shape[1] * w.shape[1] // MULTIPLY_ADDS_PER_ELEMENT


def linear(x, w, b):
    """y = x @ w + b.

    x: (N, D); w: (D, M); b: (M,). Returns y: (N, M) in x's dtype (float32 or float64).
    """
    x, w = _check(x, w)
    b = as_float_array("b", b, 1, "(M,)", dtype=x.dtype)
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape (M,) = ({w.shape[1]},) for w of shape {w.shape}, got shape {b.shape}")
    y = np.empty((x.shape[0], w.shape[1]), x.dtype)
    run_blas_in_blocks(_forward_rows, x.shape[0], _work(x, w), x, w, b, y)
    return y


def _forward_rows(first, last, x, w, b, y):
    np.matmul(x[first:last], w, out=y[first:last])
    y[first:last] += b


def linear_backward(dy, x, w):
    """Gradients of a loss L through ``y = linear(x, w, b)``.

    dy: (N, M) dL/dy; x: (N, D) and w: (D, M), the forward pass's inputs.
    Returns (dx, dw, db): dx (N, D) = dy @ w.T, dw (D, M) = x.T @ dy, db (M,) = dy summed over N.
    """
    x, w = _check(x, w)
    dy = as_float_array("dy", dy, 2, "(N, M)", dtype=x.dtype)
    if dy.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dy must have the shape of y (N, M) = {(x.shape[0], w.shape[1])} for x of shape "
                         f"{x.shape} and w of shape {w.shape}; got shape {dy.shape}")
    dx = np.empty_like(x)
    partial_dws = run_blas_in_blocks(_backward_rows, x.shape[0], 2 * _work(x, w), dy, x, w, dx)
    return dx, sum(partial_dws), dy.sum(axis=0)


def _backward_rows(first, last, dy, x, w, dx):
    """Fill dx[first:last]; return these rows' share of dw."""
    np.matmul(dy[first:last], w.T, out=dx[first:last])
    return x[first:last].T @ dy[first:last]
