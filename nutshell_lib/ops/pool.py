"""Max and average pooling over NCHW arrays, forward and backward, on the CPU or a CUDA GPU.

A window of ``size`` (size_h, size_w) slides over each (H, W) plane with ``stride`` (stride_h,
stride_w), which defaults to ``size``. There is no padding: windows that would run past the bottom
or right edge are dropped, so

    Ho = (H - size_h) // stride_h + 1,    Wo = (W - size_w) // stride_w + 1.

``size`` and ``stride`` are an int (the same for both axes) or an (h, w) pair. Arrays may have any
memory layout; float32 and float64 keep their dtype, other real dtypes become float64. Device
arrays in give device arrays out, NumPy arrays in NumPy arrays out, on either device (the rule is
in ``device``).
"""
from __future__ import annotations

import numpy as np

from ..kernels import cpu_pool
from ..kernels.jit import FAST_KERNEL_DTYPE
from .device import resolve_device, results, to_gpu
from .threads import run_in_blocks
from .validate import as_float_array, output_size, pair

NCHW = "(N, C, H, W)"


def _pooling_geometry(x, size, stride):
    """Validate x, size and stride; return (x as C-contiguous float array, window, output shape).

    ``window`` is (size_h, size_w, stride_h, stride_w), the kernels' last four arguments.
    """
    x = as_float_array("x", x, 4, NCHW)
    size_h, size_w = pair("size", size, 1)
    stride_h, stride_w = pair("stride", (size_h, size_w) if stride is None else stride, 1)
    batch, channels, height, width = x.shape
    if size_h > height or size_w > width:
        raise ValueError(
            f"size {(size_h, size_w)} does not fit in x's (H, W) = {(height, width)} "
            f"(x has shape {x.shape}); pooling adds no padding"
        )
    output_shape = (batch, channels, output_size(height, size_h, stride_h), output_size(width, size_w, stride_w))
    return x, (size_h, size_w, stride_h, stride_w), output_shape


def _upstream_gradient(dy, x, output_shape):
    """Validate dy against the forward output's shape; return it C-contiguous in x's dtype."""
    dy = as_float_array("dy", dy, 4, "(N, C, Ho, Wo)", dtype=x.dtype)
    if dy.shape != output_shape:
        raise ValueError(
            f"dy must have the forward output's shape (N, C, Ho, Wo) = {output_shape} "
            f"for x of shape {x.shape}, got dy of shape {dy.shape}"
        )
    return dy


def _run_cpu(kernel, inputs, output_shape, dtype, window):
    """Run the CPU kernel on the NumPy ``inputs``; return its output (``output_shape``, ``dtype``).

    The kernels see every NCHW array as a stack of N * C planes (a free reshape).
    """
    output = np.empty(output_shape, dtype)
    if output.size == 0:
        return output
    planes = [array.reshape(-1, *array.shape[2:]) for array in inputs]
    output_planes = output.reshape(-1, *output_shape[2:])
    element_count = output.size + sum(array.size for array in planes)
    run_in_blocks(kernel, len(output_planes), element_count, *planes, output_planes, *window)
    return output


def _run_cuda(kernel, inputs, output_shape, dtype, window, arguments):
    """Run the CUDA kernel, one thread per output element, on ``inputs`` (NumPy or device arrays);
    return its output as a device array if one of the op's array ``arguments`` was one, else as a
    NumPy array."""
    from numba import cuda

    from ..kernels.cuda_launch import launch

    def as_planes(shape):
        return (shape[0] * shape[1], *shape[2:])

    output = cuda.device_array(as_planes(output_shape), dtype)
    planes = [to_gpu(array).reshape(*as_planes(array.shape)) for array in inputs]
    launch(kernel, output.size, *planes, output, *window)
    return results(arguments, output.reshape(*output_shape))


def max_pool2d(x, size, *, stride=None, device="auto"):
    """Max pooling: the largest value of each window.

    Parameters
    ----------
    x : (N, C, H, W) array, the input.
    size : int or (size_h, size_w), the window.
    stride : int or (stride_h, stride_w), the step between windows; None means ``size``.
    device : "auto" (the GPU when an argument is a device array, else the CPU), "cpu" or "cuda".

    Returns
    -------
    y : (N, C, Ho, Wo) array of x's dtype; a NaN in a window makes its output NaN.
    """
    arguments = dict(x=x)
    device = resolve_device(device, arguments)
    x, window, output_shape = _pooling_geometry(x, size, stride)
    if device == "cuda":
        from ..kernels import cuda_pool

        return _run_cuda(cuda_pool.max_pool_forward, (x,), output_shape, x.dtype, window, arguments)
    return _run_cpu(cpu_pool.max_pool_forward, (x,), output_shape, x.dtype, window)


def max_pool2d_backward(dy, x, size, *, stride=None, device="auto"):
    """Gradient of ``max_pool2d`` with respect to its input.

    Each window's gradient goes to the element that the forward pass picked: the window's
    maximum, and on ties the first maximum in row-major window order (top row first, left to
    right). Where windows overlap, an element collects the gradients of every window it wins.

    Parameters
    ----------
    dy : (N, C, Ho, Wo) array, the gradient of the loss with respect to y; converted to x's dtype.
    x : (N, C, H, W) array, the forward pass's input.
    size, stride, device : as for ``max_pool2d``.

    Returns
    -------
    dx : (N, C, H, W) array of x's dtype, the gradient of the loss with respect to x.
    """
    arguments = dict(dy=dy, x=x)
    device = resolve_device(device, arguments)
    x, window, output_shape = _pooling_geometry(x, size, stride)
    dy = _upstream_gradient(dy, x, output_shape)
    if device == "cuda":
        from ..kernels import cuda_pool

        return _run_cuda(cuda_pool.max_pool_backward, (dy, x), x.shape, x.dtype, window, arguments)
    size_h, size_w, stride_h, stride_w = window
    # No element in two windows: the faster kernel, compiled for FAST_KERNEL_DTYPE (float32) only.
    tiled = (stride_h, stride_w) == (size_h, size_w) and x.dtype == FAST_KERNEL_DTYPE
    kernel = cpu_pool.max_pool_backward_tiled if tiled else cpu_pool.max_pool_backward
    return _run_cpu(kernel, (dy, x), x.shape, x.dtype, window)


def avg_pool2d(x, size, *, stride=None, device="auto"):
    """Average pooling: the mean of each window (every window holds size_h * size_w elements).

    Parameters
    ----------
    x : (N, C, H, W) array, the input.
    size : int or (size_h, size_w), the window.
    stride : int or (stride_h, stride_w), the step between windows; None means ``size``.
    device : "auto" (the GPU when an argument is a device array, else the CPU), "cpu" or "cuda".

    Returns
    -------
    y : (N, C, Ho, Wo) array of x's dtype.
    """
    arguments = dict(x=x)
    device = resolve_device(device, arguments)
    x, window, output_shape = _pooling_geometry(x, size, stride)
    if device == "cuda":
        from ..kernels import cuda_pool

        return _run_cuda(cuda_pool.avg_pool_forward, (x,), output_shape, x.dtype, window, arguments)
    return _run_cpu(cpu_pool.avg_pool_forward, (x,), output_shape, x.dtype, window)


def avg_pool2d_backward(dy, x, size, *, stride=None, device="auto"):
    """Gradient of ``avg_pool2d`` with respect to its input.

    Every element of a window receives 1 / (size_h * size_w) of the window's gradient; elements
    in several windows add up their shares, elements in none (dropped at the edge) get 0.

    Parameters
    ----------
    dy : (N, C, Ho, Wo) array, the gradient of the loss with respect to y; converted to x's dtype.
    x : (N, C, H, W) array, the forward pass's input (only its shape and dtype matter).
    size, stride, device : as for ``avg_pool2d``.

    Returns
    -------
    dx : (N, C, H, W) array of x's dtype, the gradient of the loss with respect to x.
    """
    arguments = dict(dy=dy, x=x)
    device = resolve_device(device, arguments)
    x, window, output_shape = _pooling_geometry(x, size, stride)
    dy = _upstream_gradient(dy, x, output_shape)
    if device == "cuda":
        from ..kernels import cuda_pool

        return _run_cuda(cuda_pool.avg_pool_backward, (dy,), x.shape, x.dtype, window, arguments)
    return _run_cpu(cpu_pool.avg_pool_backward, (dy,), x.shape, x.dtype, window)
