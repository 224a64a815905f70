"""CPU kernels that turn a convolution into one big matrix product (im2col), and back (col2im).

Copying every input window into a column of a matrix ``col`` makes the convolution a single
``W2d @ col`` that NumPy hands to the BLAS, which runs many times faster than loops over windows.
Only the copies are written here; ``nutshell_lib.ops.conv`` does the matrix products.

Layout of ``col``: shape (C*R*S, N, Ho, Wo). Row ``(c*R + r)*S + s`` holds, for every output
position ``(n, i, j)``, the input pixel that kernel tap ``(c, r, s)`` sees there.
"""
from .jit import cpu_kernel


def _im2col(x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, col):
    """Fill ``col`` with the windows of ``x``; taps that fall in the zero padding get 0.

    x: (N, C, H, W) input. col: (C*R*S, N, Ho, Wo), overwritten.
    """
    batch, channels, height, width = x.shape
    out_h, out_w = col.shape[2], col.shape[3]
    taps = kernel_h * kernel_w
    for row in range(col.shape[0]):
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


def _col2im(col, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dx):
    """The adjoint of im2col: add every entry of ``col`` back onto the input pixel it was copied from.

    col: (C*R*S, N, Ho, Wo) gradient with respect to the columns.
    dx: (N, C, H, W), overwritten with the gradient with respect to the input. Where windows
    overlap (stride < kernel size) a pixel receives the sum of all its copies.
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
                for i in range(out_h):
                    h = i * stride_h - pad_h + r
                    if h < 0 or h >= height:
                        continue
                    for j in range(out_w):
                        w = j * stride_w - pad_w + s
                        if 0 <= w < width:
                            dx[n, c, h, w] += col[row, n, i, j]


# Plain kernels, not prange: a parallel Numba kernel costs about a second more to compile per dtype,
# and the kit's cold start matters. ops.conv runs them on the kit's threads, a block of images each.
im2col = cpu_kernel(_im2col)
col2im = cpu_kernel(_col2im)
