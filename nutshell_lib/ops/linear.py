"""The fully connected (affine) map y = x @ w + b, forward and backward, on the kit's threads.

Shapes: x (N, D) inputs, w (D, M) weights, b (M,) biases, y and dy (N, M).

These are two or three BLAS products. Each of the kit's threads takes a block of the batch's rows
and runs its products with the BLAS on one thread (see ``threads`` for why), so that a network
of conv, pooling and dense layers keeps exactly as many threads busy as there are cores. On a GPU
the products are the tiled kernel of ``nutshell_lib.kernels.cuda_tiled``; which device runs and
where the results live follows the rule in ``device``: device arrays in, device arrays out.
"""
from __future__ import annotations

import numpy as np

from .device import resolve_device, results, to_gpu
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


def linear(x, w, b, *, device="auto"):
    """y = x @ w + b.

    x: (N, D); w: (D, M); b: (M,). device: "auto" (the GPU when an argument is a device array, else
    the CPU), "cpu" or "cuda". Returns y: (N, M) in x's dtype (float32 or float64).
    """
    x, w = _check(x, w)
    b = as_float_array("b", b, 1, "(M,)", dtype=x.dtype)
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape (M,) = ({w.shape[1]},) for w of shape {w.shape}, got shape {b.shape}")
    inputs = dict(x=x, w=w, b=b)
    if resolve_device(device, inputs) == "cuda":
        return results(inputs, _forward_cuda(x, w, b))
    y = np.empty((x.shape[0], w.shape[1]), x.dtype)
    run_blas_in_blocks(_forward_rows, x.shape[0], _work(x, w), x, w, b, y)
    return y


def _forward_rows(first, last, x, w, b, y):
    np.matmul(x[first:last], w, out=y[first:last])
    y[first:last] += b


def linear_backward(dy, x, w, *, device="auto"):
    """Gradients of a loss L through ``y = linear(x, w, b, device=device)``.

    dy: (N, M) dL/dy; x: (N, D) and w: (D, M), the forward pass's inputs; device as there.
    Returns (dx, dw, db): dx (N, D) = dy @ w.T, dw (D, M) = x.T @ dy, db (M,) = dy summed over N.
    """
    x, w = _check(x, w)
    dy = as_float_array("dy", dy, 2, "(N, M)", dtype=x.dtype)
    if dy.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dy must have the shape of y (N, M) = {(x.shape[0], w.shape[1])} for x of shape "
                         f"{x.shape} and w of shape {w.shape}; got shape {dy.shape}")
    inputs = dict(dy=dy, x=x, w=w)
    if resolve_device(device, inputs) == "cuda":
        return results(inputs, *_backward_cuda(dy, x, w))
    dx = np.empty_like(x)
    dw = np.empty_like(w)
    batch = x.shape[0]
    run_blas_in_blocks(_backward_parts, batch + w.shape[1], 2 * _work(x, w), dy, x, w, dx, dw)
    return dx, dw, dy.sum(axis=0)


def _backward_parts(first, last, dy, x, w, dx, dw):
    """Units [first, last) of the backward pass: units 0..N-1 are the rows of dx = dy @ w.T, units
    N..N+M-1 the columns of dw = x.T @ dy. Each unit is written by one thread, and no thread sums
    another's partial results (splitting dw by rows of the batch did, and was slower, measured)."""
    batch = x.shape[0]
    if first < batch:
        rows = slice(first, min(last, batch))
        np.matmul(dy[rows], w.T, out=dx[rows])
    if last > batch:
        columns = slice(max(first, batch) - batch, last - batch)
        np.matmul(x.T, dy[:, columns], out=dw[:, columns])


def _forward_cuda(x, w, b):
    """y (N, M) = x @ w + b on the GPU (arguments copied there if on the host)."""
    from numba import cuda

    from ..kernels import cuda_linear
    from ..kernels.cuda_launch import launch

    x, w, b = to_gpu(x), to_gpu(w), to_gpu(b)
    y = cuda.device_array((x.shape[0], w.shape[1]), x.dtype)
    _matmul(x, False, w, False, y)
    launch(cuda_linear.add_row_vector, y.size, y, b)
    return y


def _backward_cuda(dy, x, w):
    """(dx, dw, db) = (dy @ w.T, x.T @ dy, dy summed over N) on the GPU."""
    from numba import cuda

    from ..kernels import cuda_linear
    from ..kernels.cuda_launch import launch

    dy, x, w = to_gpu(dy), to_gpu(x), to_gpu(w)
    dx = cuda.device_array(x.shape, x.dtype)
    dw = cuda.device_array(w.shape, x.dtype)
    db = cuda.device_array(w.shape[1], x.dtype)
    _matmul(dy, False, w, True, dx)  # dy @ w.T
    _matmul(x, True, dy, False, dw)  # x.T @ dy
    launch(cuda_linear.column_sums, db.size, dy, db)
    return dx, dw, db


def _matmul(a, a_transposed, b, b_transposed, c):
    """c (n, m) = op(a) @ op(b) on the GPU, op(a) being a.T when a_transposed (likewise b), with the
    tiled kernel for their dtype; the transposes are read in place, not copied."""
    from ..kernels import cuda_linear
    from ..kernels.cuda_launch import launch_tiles
    from ..kernels.cuda_tiled import TILE

    rows, cols = c.shape
    inner = a.shape[0] if a_transposed else a.shape[1]
    kernel = cuda_linear.matmul_kernel(c.dtype.name, a_transposed, b_transposed)
    launch_tiles(kernel, rows, cols, TILE, a, b, c, rows, inner, cols, cuda_linear.NO_GEOMETRY)
