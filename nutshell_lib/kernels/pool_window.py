"""What one pooling window computes, written once for both targets.

``cpu_pool`` compiles these helpers with ``cpu_kernel`` and ``cuda_pool`` with
``cuda.jit(device=True)``: the two devices then pick the same maximum and sum in the same order,
so their results agree bit for bit.
"""
import math


def first_max(x, n, c, top, left, size_h, size_w):
    """Position (row, col) of the maximum of the window x[n, c, top:top+size_h, left:left+size_w].

    Ties go to the first maximum in row-major window order. A NaN counts as larger than any
    number (the first NaN wins), so a NaN in the input shows up in the output instead of vanishing.
    """
    best_row, best_col = top, left
    best = x[n, c, top, left]
    for row in range(top, top + size_h):
        for col in range(left, left + size_w):
            value = x[n, c, row, col]
            if value > best or (math.isnan(value) and not math.isnan(best)):
                best, best_row, best_col = value, row, col
    return best_row, best_col


def window_mean(x, n, c, top, left, size_h, size_w):
    """Mean of the window x[n, c, top:top+size_h, left:left+size_w], summed in x's dtype, row-major."""
    total = x.dtype.type(0)
    for row in range(top, top + size_h):
        for col in range(left, left + size_w):
            total += x[n, c, row, col]
    return total / (size_h * size_w)


def covering_windows(index, size, stride, count):
    """First and last window (along one axis) that contain input position ``index``.

    Window k covers [k*stride, k*stride + size); ``count`` windows fit. The range is empty
    (first > last) when no window reaches ``index``, e.g. a row dropped by the floor.
    """
    first = max(0, (index - size + stride) // stride)
    last = min(count - 1, index // stride)
    return first, last
