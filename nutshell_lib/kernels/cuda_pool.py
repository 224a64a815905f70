"""Pooling kernels for NVIDIA GPUs (Numba's CUDA target), one thread per output element.

The backward kernels gather instead of scatter: each thread owns one input element and adds the
gradients of the windows that contain it, so no two threads write the same element and no
atomics are needed, even when windows overlap (stride < size). Windows are visited in row-major
order, the order in which the CPU kernels scatter, so both devices round identically.

Arrays are C-contiguous stacks of planes, (P, H, W) with P = N * C, on the GPU;
``nutshell_lib.ops.pool`` validates them and launches the kernels with ``cuda_launch.launch``, one
thread per output element. Importing this module imports ``numba.cuda``: the ops import it only
when a GPU is used.
"""
from numba import cuda

from .cpu_pool import _first_max, _window_max

window_max = cuda.jit(device=True)(_window_max)
first_max = cuda.jit(device=True)(_first_max)


@cuda.jit(device=True)
def window_mean(planes, p, top, left, size_h, size_w):
    """Mean of the window planes[p, top:top+size_h, left:left+size_w].

    Summed in the array's dtype in row-major order and divided once, like the CPU kernel.
    """
    total = planes.dtype.type(0)
    for row in range(top, top + size_h):
        for col in range(left, left + size_w):
            total += planes[p, row, col]
    return total / (size_h * size_w)


@cuda.jit(device=True)
def covering_windows(index, size, stride, count):
    """First and last window (along one axis) that contain input position ``index``.

    Window k covers [k*stride, k*stride + size); ``count`` windows fit. The range is empty
    (first > last) when no window reaches ``index``, e.g. a row dropped by the floor.
    """
    first = max(0, (index - size + stride) // stride)
    last = min(count - 1, index // stride)
    return first, last


@cuda.jit(device=True)
def plane_position(index, shape):
    """(p, h, w) of the flat C-order ``index`` into an array of ``shape`` (P, H, W)."""
    rest, w = divmod(index, shape[2])
    p, h = divmod(rest, shape[1])
    return p, h, w


@cuda.jit
def max_pool_forward(x, y, size_h, size_w, stride_h, stride_w):
    """y[p, i, j] = max of x's window (i, j). x: (P, H, W), y: (P, Ho, Wo)."""
    index = cuda.grid(1)
    if index < y.size:
        p, i, j = plane_position(index, y.shape)
        y[p, i, j] = window_max(x, p, i * stride_h, j * stride_w, size_h, size_w)


@cuda.jit
def max_pool_backward(dy, x, dx, size_h, size_w, stride_h, stride_w):
    """dx[p, h, w] = sum of dy over the windows whose first maximum is (h, w).

    dy: (P, Ho, Wo), x: (P, H, W), dx: (P, H, W).
    """
    index = cuda.grid(1)
    if index < dx.size:
        p, h, w = plane_position(index, dx.shape)
        first_i, last_i = covering_windows(h, size_h, stride_h, dy.shape[1])
        first_j, last_j = covering_windows(w, size_w, stride_w, dy.shape[2])
        total = dx.dtype.type(0)
        for i in range(first_i, last_i + 1):
            for j in range(first_j, last_j + 1):
                row, col = first_max(x, p, i * stride_h, j * stride_w, size_h, size_w)
                if row == h and col == w:
                    total += dy[p, i, j]
        dx[p, h, w] = total


@cuda.jit
def avg_pool_forward(x, y, size_h, size_w, stride_h, stride_w):
    """y[p, i, j] = mean of x's window (i, j). x: (P, H, W), y: (P, Ho, Wo)."""
    index = cuda.grid(1)
    if index < y.size:
        p, i, j = plane_position(index, y.shape)
        y[p, i, j] = window_mean(x, p, i * stride_h, j * stride_w, size_h, size_w)


@cuda.jit
def avg_pool_backward(dy, dx, size_h, size_w, stride_h, stride_w):
    """dx[p, h, w] = (sum of dy over the windows that contain (h, w)) / (size_h * size_w).

    dy: (P, Ho, Wo), dx: (P, H, W).
    """
    index = cuda.grid(1)
    if index < dx.size:
        p, h, w = plane_position(index, dx.shape)
        first_i, last_i = covering_windows(h, size_h, stride_h, dy.shape[1])
        first_j, last_j = covering_windows(w, size_w, stride_w, dy.shape[2])
        total = dx.dtype.type(0)
        for i in range(first_i, last_i + 1):
            for j in range(first_j, last_j + 1):
                total += dy[p, i, j]
        dx[p, h, w] = total / (size_h * size_w)


@cuda.jit
def pad_planes(x, padded, pad_h, pad_w, fill):
    """padded[p] = x[p] with pad_h rows above and below and pad_w columns left and right of
    ``fill`` (max pooling's -inf), as np.pad does on the CPU. x: (P, H, W), padded: (P, H + 2 pad_h,
    W + 2 pad_w); one thread per element of ``padded``.
    """
    index = cuda.grid(1)
    if index < padded.size:
        p, h, w = plane_position(index, padded.shape)
        row, col = h - pad_h, w - pad_w
        inside = 0 <= row < x.shape[1] and 0 <= col < x.shape[2]
        padded[p, h, w] = x[p, row, col] if inside else fill


@cuda.jit
def crop_planes(padded, cropped, pad_h, pad_w):
    """cropped[p] = padded[p] without its pad_h border rows and pad_w border columns (the inverse
    of ``pad_planes``). padded: (P, H + 2 pad_h, W + 2 pad_w), cropped: (P, H, W); one thread per
    element of ``cropped``.
    """
    index = cuda.grid(1)
    if index < cropped.size:
        p, h, w = plane_position(index, cropped.shape)
        cropped[p, h, w] = padded[p, h + pad_h, w + pad_w]
