"""CPU kernels that turn a convolution into one big matrix product (im2col), and back (col2im).

Copying every input window into a column of a matrix ``col`` makes the convolution a single
``W2d @ col`` that NumPy hands to the BLAS, which runs many times faster than loops over windows.
Only the copies are written here; ``nutshell_lib.ops.conv`` does the matrix products.

Layout of ``col``: shape (C*R*S, N, Ho, Wo). Row ``(c*R + r)*S + s`` holds, for every output
position ``(n, i, j)``, the input pixel that kernel tap ``(c, r, s)`` sees there.
"""
from numba import uint64

from .jit import cpu_kernel


def _inside_columns(kernel_col, stride_w, pad_w, width, out_w):
    """(first, end): the output columns j whose input column j*stride_w - pad_w + kernel_col lies
    inside the image, first <= j < end (first == end when none does)."""
    first = min(out_w, max(0, (pad_w - kernel_col + stride_w - 1) // stride_w))
    end = max(first, min(out_w, (width - 1 + pad_w - kernel_col) // stride_w + 1))
    return first, end


def _im2col(x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, col):
    """Fill ``col`` with the windows of ``x``; taps that fall in the zero padding get 0.

    x: (N, C, H, W) input. col: (C*R*S, N, Ho, Wo), overwritten.

    Each output row copies one run of input pixels, with zeros either side where the taps fall in
    the padding. The run's indices are unsigned: with signed ones Numba must allow for negative
    indices counting from the end, which kept the copy from vectorising.

    The names of the row views matter to Numba 0.68: with the destination's name sorting after
    the source's (``out_row`` and ``in_row``), this kernel ran 8x slower, measured. Keep the
    destination's first (``col_row``, ``image_row``; in col2im ``dx_row``, ``grad_row``).
    """
    batch, channels, height, width = x.shape
    out_h, out_w = col.shape[2], col.shape[3]
    taps = kernel_h * kernel_w
    for row in range(col.shape[0]):
        c = row // taps
        r = (row % taps) // kernel_w
        s = row % kernel_w
        first, end = inside_columns(s, stride_w, pad_w, width, out_w)
        for n in range(batch):
            for i in range(out_h):
                col_row = col[row, n, i]
                h = i * stride_h - pad_h + r
                if h < 0 or h >= height:
                    for j in range(out_w):
                        col_row[j] = 0
                    continue
                image_row = x[n, c, h]
                for j in range(first):
                    col_row[j] = 0
                for j in range(end, out_w):
                    col_row[j] = 0
                start = uint64(first * stride_w - pad_w + s)  # input column of output column `first`
                if stride_w == 1:  # a contiguous run: its own loop, so that the copy vectorises
                    for j in range(uint64(first), uint64(end)):
                        col_row[j] = image_row[start + j - uint64(first)]
                else:
                    for j in range(uint64(first), uint64(end)):
                        col_row[j] = image_row[start + (j - uint64(first)) * uint64(stride_w)]


def _col2im(col, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dx):
    """The adjoint of im2col: add every entry of ``col`` back onto the input pixel it was copied from.

    col: (C*R*S, N, Ho, Wo) gradient with respect to the columns.
    dx: (N, C, H, W), overwritten with the gradient with respect to the input. Where windows
    overlap (stride < kernel size) a pixel receives the sum of all its copies, in the order of the
    taps (r, s) and then of the windows (i, j).
    """
    batch, channels, height, width = dx.shape
    out_h, out_w = col.shape[2], col.shape[3]
    for plane in range(batch * channels):
        n = plane // channels
        c = plane % channels
        dx[n, c, :, :] = 0
        for r in range(kernel_h):
            for s in range(kernel_w):
                row = (c * kernel_h + r) * kernel_w + s
                first, end = inside_columns(s, stride_w, pad_w, width, out_w)
                start = uint64(first * stride_w - pad_w + s)
                for i in range(out_h):
                    h = i * stride_h - pad_h + r
                    if h < 0 or h >= height:
                        continue
                    grad_row, dx_row = col[row, n, i], dx[n, c, h]
                    if stride_w == 1:
                        for j in range(uint64(first), uint64(end)):
                            dx_row[start + j - uint64(first)] += grad_row[j]
                    else:
                        for j in range(uint64(first), uint64(end)):
                            dx_row[start + (j - uint64(first)) * uint64(stride_w)] += grad_row[j]


# Plain kernels, not prange: a parallel Numba kernel costs about a second more to compile per dtype,
# and the kit's cold start matters. ops.conv runs them on the kit's threads, a block of images each.
inside_columns = cpu_kernel(_inside_columns)
im2col = cpu_kernel(_im2col)
col2im = cpu_kernel(_col2im)
