"""Pooling kernels for the CPU, parallel over (sample, channel) planes.

Each plane belongs to one thread, so the backward kernels can scatter gradients into the
elements that overlapping windows share (stride < size) without two threads ever writing the
same element. Arrays are C-contiguous NCHW; ``nutshell_lib.ops.pool`` validates them.

The four operations share one parallel loop, ``each_plane``: compiling a parallel loop costs
Numba about a second per dtype, the plain per-plane functions a fraction of that, and the kit
keeps its cold compile of all kernels under ten seconds.
"""
import numba

from .jit import cpu_kernel
from .pool_window import first_max as _first_max
from .pool_window import window_mean as _window_mean

MAX_FORWARD, MAX_BACKWARD, AVG_FORWARD, AVG_BACKWARD = range(4)

first_max = cpu_kernel(_first_max)
window_mean = cpu_kernel(_window_mean)


def _max_forward_plane(x, y, n, c, size_h, size_w, stride_h, stride_w):
    """y[n, c, i, j] = max of x's window (i, j), for one plane. x: (N, C, H, W), y: (N, C, Ho, Wo)."""
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            row, col = first_max(x, n, c, i * stride_h, j * stride_w, size_h, size_w)
            y[n, c, i, j] = x[n, c, row, col]


def _max_backward_plane(x, dy, dx, n, c, size_h, size_w, stride_h, stride_w):
    """dx[n, c] = each window's gradient dy[n, c, i, j] added at the window's first maximum.

    x: (N, C, H, W), dy: (N, C, Ho, Wo), dx: (N, C, H, W).
    """
    dx[n, c] = 0
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            row, col = first_max(x, n, c, i * stride_h, j * stride_w, size_h, size_w)
            dx[n, c, row, col] += dy[n, c, i, j]


def _avg_forward_plane(x, y, n, c, size_h, size_w, stride_h, stride_w):
    """y[n, c, i, j] = mean of x's window (i, j), for one plane. x: (N, C, H, W), y: (N, C, Ho, Wo)."""
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            y[n, c, i, j] = window_mean(x, n, c, i * stride_h, j * stride_w, size_h, size_w)


def _avg_backward_plane(dy, dx, n, c, size_h, size_w, stride_h, stride_w):
    """dx[n, c, h, w] = (sum of dy over the windows that contain (h, w)) / (size_h * size_w).

    dy: (N, C, Ho, Wo), dx: (N, C, H, W). The sum runs over windows in row-major order and is
    divided once at the end, exactly as the CUDA kernel does it.
    """
    dx[n, c] = 0
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            gradient = dy[n, c, i, j]
            for row in range(i * stride_h, i * stride_h + size_h):
                for col in range(j * stride_w, j * stride_w + size_w):
                    dx[n, c, row, col] += gradient
    window_area = size_h * size_w
    for row in range(dx.shape[2]):
        for col in range(dx.shape[3]):
            dx[n, c, row, col] = dx[n, c, row, col] / window_area


max_forward_plane = cpu_kernel(_max_forward_plane)
max_backward_plane = cpu_kernel(_max_backward_plane)
avg_forward_plane = cpu_kernel(_avg_forward_plane)
avg_backward_plane = cpu_kernel(_avg_backward_plane)


def _each_plane(operation, x, dy, out, size_h, size_w, stride_h, stride_w):
    """Run ``operation`` on every (n, c) plane of ``out``, one plane per thread.

    x: (N, C, H, W) input; dy: (N, C, Ho, Wo) gradient, ignored by the forward operations;
    out: y (N, C, Ho, Wo) for a forward operation, dx (N, C, H, W) for a backward one.
    """
    channels = out.shape[1]
    for plane in numba.prange(out.shape[0] * channels):
        n, c = plane // channels, plane % channels
        if operation == MAX_FORWARD:
            max_forward_plane(x, out, n, c, size_h, size_w, stride_h, stride_w)
        elif operation == MAX_BACKWARD:
            max_backward_plane(x, dy, out, n, c, size_h, size_w, stride_h, stride_w)
        elif operation == AVG_FORWARD:
            avg_forward_plane(x, out, n, c, size_h, size_w, stride_h, stride_w)
        else:
            avg_backward_plane(dy, out, n, c, size_h, size_w, stride_h, stride_w)


each_plane = cpu_kernel(_each_plane, parallel=True)


def max_pool_forward(x, y, size_h, size_w, stride_h, stride_w):
    """Fill y (N, C, Ho, Wo) with the window maxima of x (N, C, H, W)."""
    each_plane(MAX_FORWARD, x, x, y, size_h, size_w, stride_h, stride_w)


def max_pool_backward(dy, x, dx, size_h, size_w, stride_h, stride_w):
    """Fill dx (N, C, H, W) with max pooling's input gradient, given dy (N, C, Ho, Wo) and x."""
    each_plane(MAX_BACKWARD, x, dy, dx, size_h, size_w, stride_h, stride_w)


def avg_pool_forward(x, y, size_h, size_w, stride_h, stride_w):
    """Fill y (N, C, Ho, Wo) with the window means of x (N, C, H, W)."""
    each_plane(AVG_FORWARD, x, x, y, size_h, size_w, stride_h, stride_w)


def avg_pool_backward(dy, dx, size_h, size_w, stride_h, stride_w):
    """Fill dx (N, C, H, W) with average pooling's input gradient, given dy (N, C, Ho, Wo)."""
    each_plane(AVG_BACKWARD, dx, dy, dx, size_h, size_w, stride_h, stride_w)
