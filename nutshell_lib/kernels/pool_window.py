"""What one pooling window computes, written once for both targets.

Arrays here are stacks of planes, (P, H, W) with P = N * C: an NCHW array reshaped, which costs
nothing for a C-contiguous array. ``cpu_pool`` compiles these helpers with ``cpu_kernel`` and
``cuda_pool`` with ``cuda.jit(device=True)``, so the two devices pick the same maximum and sum
in the same order, and their results agree bit for bit.
"""
import math


def first_max(planes, p, top, left, size_h, size_w):
    """Position (row, col) of the maximum of the window planes[p, top:top+size_h, left:left+size_w].

    Ties go to the first maximum in row-major window order. A NaN counts as larger than any
    number (the first NaN wins), so a NaN in the input shows up in the output instead of vanishing.
    """
    best_row, best_col = top, left
    best = planes[p, top, left]
    for row in range(top, top + size_h):
        for col in range(left, left + size_w):
            value = planes[p, row, col]
            if value > best or (math.isnan(value) and not math.isnan(best)):
                best, best_row, best_col = value, row, col
    return best_row, best_col


def window_mean(planes, p, top, left, size_h, size_w):
    """Mean of the window planes[p, top:top+size_h, left:left+size_w], summed row-major in its dtype."""
    total = planes.dtype.type(0)
    for row in range(top, top + size_h):
        for col in range(left, left + size_w):
            total += planes[p, row, col]
    return total / (size_h * size_w)


def covering_windows(index, size, stride, count):
    """First and last window (along one axis) that contain input position ``index``.

    Window k covers [k*stride, k*stride + size); ``count`` windows fit. The range is empty
    (first > last) when no window reaches ``index``, e.g. a row dropped by the floor.
    """
    first = max(0, (index - size + stride) // stride)
    last = min(count - 1, index // stride)
    return first, last
