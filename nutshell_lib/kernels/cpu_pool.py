"""Pooling kernels for the CPU. Each kernel handles the planes [first_plane, last_plane).

Arrays are C-contiguous stacks of planes, (P, H, W) with P = N * C: an NCHW array reshaped, which
costs nothing. ``plane_threads.run_over_planes`` splits the planes among threads; each plane
belongs to one thread, so the backward kernels can scatter gradients into the elements that
overlapping windows share (stride < size) without two threads ever writing the same element.

``_window_max`` and ``_first_max`` are shared with ``cuda_pool``, and both devices sum in the same
order, so their results agree bit for bit. The shared functions live in this file because
Numba's disk cache notices edits to a kernel's own file only, not to the files it calls into.
"""
from .jit import cpu_kernel


def _window_max(planes, p, top, left, size_h, size_w):
    """Maximum of the window planes[p, top:top+size_h, left:left+size_w]; NaN if it holds a NaN."""
    best = planes[p, top, left]
    for row in range(top, top + size_h):
        for col in range(left, left + size_w):
            value = planes[p, row, col]
            if not (value <= best) and best == best:  # the rule of _first_max, which explains it
                best = value
    return best


def _first_max(planes, p, top, left, size_h, size_w):
    """Position (row, col) of the maximum of the window planes[p, top:top+size_h, left:left+size_w].

    Ties go to the first maximum in row-major window order. A NaN counts as larger than any
    number (the first NaN wins), so a NaN in the input shows up in the output instead of vanishing.
    """
    best_row, best_col = top, left
    best = planes[p, top, left]
    for row in range(top, top + size_h):
        for col in range(left, left + size_w):
            value = planes[p, row, col]
            # value > best, or value is the first NaN: comparisons with a NaN are False, so
            # `not (value <= best)` holds for a NaN value and `best == best` fails once best is
            # one. Numba compiles this form to branch-free code, math.isnan to much slower code.
            if not (value <= best) and best == best:
                best, best_row, best_col = value, row, col
    return best_row, best_col


window_max = cpu_kernel(_window_max)
first_max = cpu_kernel(_first_max)


def _max_pool_forward(first_plane, last_plane, x, y, size_h, size_w, stride_h, stride_w):
    """y[p, i, j] = max of x's window (i, j). x: (P, H, W), y: (P, Ho, Wo)."""
    for p in range(first_plane, last_plane):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                y[p, i, j] = window_max(x, p, i * stride_h, j * stride_w, size_h, size_w)


def _max_pool_backward(first_plane, last_plane, dy, x, dx, size_h, size_w, stride_h, stride_w):
    """dx[p] = each window's gradient dy[p, i, j] added at the window's first maximum.

    dy: (P, Ho, Wo), x: (P, H, W), dx: (P, H, W).
    """
    for p in range(first_plane, last_plane):
        dx[p] = 0
        for i in range(dy.shape[1]):
            for j in range(dy.shape[2]):
                row, col = first_max(x, p, i * stride_h, j * stride_w, size_h, size_w)
                dx[p, row, col] += dy[p, i, j]


def _avg_pool_forward(first_plane, last_plane, x, y, size_h, size_w, stride_h, stride_w):
    """y[p, i, j] = mean of x's window (i, j). x: (P, H, W), y: (P, Ho, Wo).

    A whole output row at a time, innermost loop along it (which the compiler vectorizes); each
    window is still summed in row-major order and divided once, exactly as the CUDA kernel does.
    """
    window_area = size_h * size_w
    for p in range(first_plane, last_plane):
        for i in range(y.shape[1]):
            y[p, i] = 0
            for row in range(i * stride_h, i * stride_h + size_h):
                for col in range(size_w):
                    for j in range(y.shape[2]):
                        y[p, i, j] += x[p, row, j * stride_w + col]
            for j in range(y.shape[2]):
                y[p, i, j] = y[p, i, j] / window_area


def _avg_pool_backward(first_plane, last_plane, dy, dx, size_h, size_w, stride_h, stride_w):
    """dx[p, h, w] = (sum of dy over the windows that contain (h, w)) / (size_h * size_w).

    dy: (P, Ho, Wo), dx: (P, H, W). The sum runs over windows in row-major order and is divided
    once at the end, exactly as the CUDA kernel does it.
    """
    window_area = size_h * size_w
    for p in range(first_plane, last_plane):
        dx[p] = 0
        for i in range(dy.shape[1]):
            for j in range(dy.shape[2]):
                gradient = dy[p, i, j]
                for row in range(i * stride_h, i * stride_h + size_h):
                    for col in range(j * stride_w, j * stride_w + size_w):
                        dx[p, row, col] += gradient
        for row in range(dx.shape[1]):
            for col in range(dx.shape[2]):
                dx[p, row, col] = dx[p, row, col] / window_area


max_pool_forward = cpu_kernel(_max_pool_forward)
max_pool_backward = cpu_kernel(_max_pool_backward)
avg_pool_forward = cpu_kernel(_avg_pool_forward)
avg_pool_backward = cpu_kernel(_avg_pool_backward)
