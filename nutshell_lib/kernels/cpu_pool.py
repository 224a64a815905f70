"""Pooling kernels for the CPU. Each kernel handles the planes [first_plane, last_plane).

Arrays are C-contiguous stacks of planes, (P, H, W) with P = N * C: an NCHW array reshaped, which
costs nothing. ``ops.threads.run_in_blocks`` splits the planes among threads; each plane
belongs to one thread, so the backward kernels can scatter gradients into the elements that
overlapping windows share (stride < size) without two threads ever writing the same element.

The CUDA kernels (``cuda_pool``) take one window per GPU thread with ``_window_max`` and
``_first_max``; the CPU kernels work along whole rows of windows, or (max-pool backward for
windows that tile the plane) along whole runs of planes, which the compiler turns into
branch-free, vectorised code. Both follow the same rules (the first maximum wins, a NaN wins) and add in the
same order, so their results agree bit for bit. The shared functions live in this file because
Numba's disk cache notices edits to a kernel's own file only, not to the files it calls into.
"""
import numpy as np
from numba import uint64

from .jit import cpu_kernel

# The tiled max-pool backward works on this many window corners at a time, so that its scratch
# arrays (8 KiB in float32) and the rows of x they read stay in the L1 cache while the taps pass.
# Measured on LeNet's pooling shapes: 1024 beat 512, 2048 and 4096 by 5-25%.
LANES_PER_CHUNK = 1024


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


first_max = cpu_kernel(_first_max)


def _max_pool_forward(first_plane, last_plane, x, y, size_h, size_w, stride_h, stride_w):
    """y[p, i, j] = max of x's window (i, j), NaN if the window holds one. x: (P, H, W), y: (P, Ho, Wo).

    A whole output row at a time: each window tap is compared along the row, which keeps the loop
    free of branches (one window at a time measured 2-3x slower).
    """
    for p in range(first_plane, last_plane):
        for i in range(y.shape[1]):
            row_max(x, p, i * stride_h, size_h, size_w, stride_w, y[p, i])


def _row_max(x, p, top, size_h, size_w, stride_w, best):
    """best[j] = max of the window of x[p] whose top-left corner is (top, j * stride_w), for every j.

    Taps in row-major window order, each kept only if larger (a tie keeps the earlier one), and a
    NaN, once in, stays (the rule of _first_max).
    """
    first_row = x[p, top]
    for j in range(best.shape[0]):
        best[j] = first_row[j * stride_w]
    for row in range(top, top + size_h):
        in_row = x[p, row]
        for col in range(size_w):
            for j in range(best.shape[0]):
                value = in_row[j * stride_w + col]
                current = best[j]
                best[j] = current if (current >= value) | (current != current) else value


row_max = cpu_kernel(_row_max)


def _max_pool_backward(first_plane, last_plane, dy, x, dx, size_h, size_w, stride_h, stride_w):
    """dx[p] = each window's gradient dy[p, i, j] added at the window's first maximum.

    dy: (P, Ho, Wo), x: (P, H, W), dx: (P, H, W). First the maxima of a row of windows, as in the
    forward pass; then, per window, the taps in reverse order, each one that equals the maximum
    taking the place of the last: the winner is the first maximum, found without a branch.
    """
    width = x.shape[2]
    best = np.empty(dy.shape[2], x.dtype)
    for p in range(first_plane, last_plane):
        dx[p] = 0
        flat_dx = dx[p].reshape(-1)
        for i in range(dy.shape[1]):
            top = i * stride_h
            row_max(x, p, top, size_h, size_w, stride_w, best)
            for j in range(dy.shape[2]):
                left = j * stride_w
                maximum = best[j]
                if maximum == maximum:
                    winner = 0
                    for row in range(top + size_h - 1, top - 1, -1):
                        in_row = x[p, row]
                        for col in range(left + size_w - 1, left - 1, -1):
                            winner = row * width + col if in_row[col] >= maximum else winner
                else:  # a NaN maximum: the gradient goes to the window's first NaN
                    row, col = first_max(x, p, top, left, size_h, size_w)
                    winner = row * width + col
                flat_dx[winner] += dy[p, i, j]


def _max_pool_backward_tiled(first_plane, last_plane, dy, x, dx, size_h, size_w, stride_h, stride_w):
    """max_pool_backward for windows that tile the plane (stride == size): no element is in two.

    dy: (P, Ho, Wo), x: (P, H, W), dx: (P, H, W); stride_h == size_h and stride_w == size_w. A
    "lane" is a flat position in a run of planes, read as the top-left corner of a window. The
    window's taps (row, col), in row-major order, pass over all lanes of a chunk of planes (the
    first two taps in one pass), each pass one contiguous loop that the compiler vectorises: each
    lane keeps its largest value and the tap that gave it (a tie keeps the earlier tap, a NaN once
    in stays: the rule of _first_max). Only the lanes at true window corners are used; the others cost some extra
    arithmetic but no branches. Then each window's gradient goes to its winning tap, in a dx
    zeroed first, so every element is 0 + dy as in the CUDA kernel. Indices are unsigned, which
    spares Numba's check for negative indices and lets the loops vectorise.
    """
    out_h, out_w = uint64(dy.shape[1]), uint64(dy.shape[2])
    height, width = uint64(x.shape[1]), uint64(x.shape[2])
    size_h, size_w = uint64(size_h), uint64(size_w)
    plane_size = height * width
    last_corner = (out_h - uint64(1)) * size_h * width + (out_w - uint64(1)) * size_w
    planes_per_chunk = max(uint64(1), uint64(LANES_PER_CHUNK) // plane_size)
    flat_x, flat_dx, flat_dy = x.reshape(-1), dx.reshape(-1), dy.reshape(-1)
    best = np.empty(planes_per_chunk * plane_size, x.dtype)
    best_tap = np.empty(planes_per_chunk * plane_size, np.int32)  # offset of the tap from the corner
    # The first pass compares the first two taps (a 1x1 window compares its one tap with itself).
    second_tap = uint64(1) if size_w > uint64(1) else (width if size_h > uint64(1) else uint64(0))
    second_tap_offset = np.int32(second_tap)
    for first in range(uint64(first_plane), uint64(last_plane), planes_per_chunk):
        planes = min(planes_per_chunk, uint64(last_plane) - first)
        base = first * plane_size
        # The last lane is the last window's corner, so every tap's reads stay inside the chunk.
        lanes = (planes - uint64(1)) * plane_size + last_corner + uint64(1)
        for lane in range(lanes):
            first_value = flat_x[base + lane]
            value = flat_x[base + second_tap + lane]
            keep = (first_value >= value) | (first_value != first_value)
            best[lane] = first_value if keep else value
            best_tap[lane] = 0 if keep else second_tap_offset
        for tap in range(uint64(2), size_h * size_w):
            offset = (tap // size_w) * width + tap % size_w
            tap_offset = np.int32(offset)
            for lane in range(lanes):
                value = flat_x[base + offset + lane]
                current = best[lane]
                keep = (current >= value) | (current != current)
                best[lane] = current if keep else value
                best_tap[lane] = best_tap[lane] if keep else tap_offset
        for element in range(base, base + planes * plane_size):
            flat_dx[element] = 0
        for plane in range(planes):
            for i in range(out_h):
                grad_row = ((first + plane) * out_h + i) * out_w
                row_corner = plane * plane_size + i * size_h * width
                for j in range(out_w):
                    corner = row_corner + j * size_w
                    flat_dx[base + corner + uint64(best_tap[corner])] += flat_dy[grad_row + j]


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

    dy: (P, Ho, Wo), dx: (P, H, W). A row of windows at a time, each tap spread along the row. Every
    element still adds its windows in row-major order (for a fixed window row, the taps' columns run
    right to left, so the windows' run left to right), and the sum is divided once at the end,
    exactly as the CUDA kernel does it.
    """
    window_area = size_h * size_w
    for p in range(first_plane, last_plane):
        dx[p] = 0
        for i in range(dy.shape[1]):
            grad_row = dy[p, i]
            for row in range(i * stride_h, i * stride_h + size_h):
                out_row = dx[p, row]
                for col in range(size_w - 1, -1, -1):
                    for j in range(grad_row.shape[0]):
                        out_row[j * stride_w + col] += grad_row[j]
        for row in range(dx.shape[1]):
            for col in range(dx.shape[2]):
                dx[p, row, col] = dx[p, row, col] / window_area


max_pool_forward = cpu_kernel(_max_pool_forward)
max_pool_backward = cpu_kernel(_max_pool_backward)
max_pool_backward_tiled = cpu_kernel(_max_pool_backward_tiled)
avg_pool_forward = cpu_kernel(_avg_pool_forward)
avg_pool_backward = cpu_kernel(_avg_pool_backward)
