"""CPU kernels that turn a convolution into one big matrix product (im2col), and back (col2im).

Copying every input window into a column of a matrix ``col`` makes the convolution a single
``W2d @ col`` that NumPy hands to the BLAS, which runs many times faster than loops over windows.
Only the copies are written here; ``nutshell_lib.ops.conv`` does the matrix products.

Layout of ``col``: shape (C*R*S, N, Ho, Wo). Row ``(c*R + r)*S + s`` holds, for every output
position ``(n, i, j)``, the input pixel that kernel tap ``(c, r, s)`` sees there.
"""
from .jit import cpu_kernel


def _im2col(first_row, last_row, x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, col):
    """Fill rows [first_row, last_row) of ``col`` with the windows of ``x``; taps that fall in the
    zero padding get 0.

    x: (N, C, H, W) input. col: (C*R*S, N, Ho, Wo); the given rows are overwritten.
    """
    batch, channels, height, width = x.shape
    out_h, out_w = col.shape[2], col.shape[3]
    taps = kernel_h * kernel_w
    # Threads get disjoint blocks of rows, each row contiguous, so they never share memory.
    for row in range(first_row, last_row):
        c = row // taps
        r = (row % taps) // kernel_w
        s = row % kernel_w
        for n in range(batch):
            for i in range(out_h):
                h = i * stride_h - pad_h + r
                for j in range(out_w):
                    w = j * stride_w - pad_w + s
                    if 0 <= h < height and 0 <= w < width:
                        col[row, n, i, j] = x[n, c, h, w]
                    else:
                        col[row, n, i, j] = 0


def _col2im(first_plane, last_plane, col, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dx):
    """The adjoint of im2col: add every entry of ``col`` back onto the input pixel it was copied
    from, for the (n, c) planes numbered [first_plane, last_plane) (plane = n * C + c).

    col: (C*R*S, N, Ho, Wo) gradient with respect to the columns.
    dx: (N, C, H, W); the given planes are overwritten with the gradient with respect to the
    input. Where windows overlap (stride < kernel size) a pixel receives the sum of all its copies.
    """
    batch, channels, height, width = dx.shape
    out_h, out_w = col.shape[2], col.shape[3]
    # Threads get disjoint blocks of (n, c) planes: all writes to a pixel come from one thread, so
    # the sums over overlapping windows need no locks or atomics.
    for plane in range(first_plane, last_plane):
        n = plane // channels
        c = plane % channels
        dx[n, c, :, :] = 0
        for r in range(kernel_h):
            for s in range(kernel_w):
                row = (c * kernel_h + r) * kernel_w + s
                for i in range(out_h):
                    h = i * stride_h - pad_h + r
                    if h < 0 or h >= height:
                        continue
                    for j in range(out_w):
                        w = j * stride_w - pad_w + s
                        if 0 <= w < width:
                            dx[n, c, h, w] += col[row, n, i, j]


# Plain (not prange) kernels run on threads by ``plane_threads.run_over_planes``: a parallel
# Numba kernel costs about a second more to compile per dtype, and the kit's cold start matters.
im2col = cpu_kernel(_im2col)
col2im = cpu_kernel(_col2im)
