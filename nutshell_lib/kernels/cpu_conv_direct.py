"""CPU kernels for a direct stride-1 convolution with few output channels: no column matrix.

With few filters (a network's first layer: 6 filters over 3 colour channels), im2col copies every
pixel R*S times into a column matrix that the BLAS then reads once for a product with only K
rows, so the copies cost as much as the arithmetic. These kernels skip the copies.

The trick: lay each zero-padded image channel out flat, row after row (width Wp = W + 2*pw). For
stride 1, output (i, j) sits at flat position q = i*Wp + j, and kernel tap (r, s) reads the input at
q + r*Wp + s. So one tap's contribution to a whole output channel is a single long, contiguous
multiply-add, ``out[q] += w[k, c, r, s] * image[q + r*Wp + s]`` for q in range(L), with
L = (Ho - 1)*Wp + Wo = Hp*Wp - (R - 1)*Wp - (S - 1): a loop the compiler vectorises. Positions with j >= Wo (the last S - 1 of each
row of Wp) are computed and thrown away; that is the price of the long loop.

The backward kernels use the same layout, with dy spread on rows of width Wp and zeros in the
thrown-away columns (``dy_rows``, (n, K, Ho*Wp)), so those columns add nothing.

Indices are unsigned (``uint64``): with signed ones Numba must allow for negative indices counting
from the end, which kept LLVM from vectorising the inner loops (5x slower, measured).
"""
from numba import uint64

from .jit import cpu_kernel


def _row_length(plane_size, padded_width, kernel_h, kernel_w):
    """L, the flat positions from the first output to the last: (Ho - 1)*Wp + Wo."""
    return uint64(plane_size - (kernel_h - 1) * padded_width - (kernel_w - 1))


def _direct_forward(images, w, b, padded_width, y, rows):
    """y[n, k, i, j] = b[k] + sum over (c, r, s) of w[k, c, r, s] * images[n, c, (i + r)*Wp + j + s].

    images: (n, C, Hp*Wp) zero-padded input, each channel flattened row by row; padded_width: Wp.
    w: (K, C, R, S); b: (K,); y: (n, K, Ho, Wo), overwritten.
    rows: (2, Ho*Wp) scratch. Two output channels share each pass over the input (an odd last
    channel is paired with itself).
    """
    batch, channels, plane_size = images.shape
    out_channels, _, kernel_h, kernel_w = w.shape
    out_h, out_w = y.shape[2], y.shape[3]
    length = row_length(plane_size, padded_width, kernel_h, kernel_w)
    width = uint64(padded_width)
    first_row, second_row = rows[0], rows[1]
    for n in range(batch):
        for k in range(0, out_channels, 2):
            other = min(k + 1, out_channels - 1)
            for q in range(length):
                first_row[q] = b[k]
                second_row[q] = b[other]
            for c in range(channels):
                image = images[n, c]
                for r in range(kernel_h):
                    for s in range(kernel_w):
                        first_weight, second_weight = w[k, c, r, s], w[other, c, r, s]
                        shift = uint64(r) * width + uint64(s)
                        for q in range(length):
                            pixel = image[shift + q]
                            first_row[q] += first_weight * pixel
                            second_row[q] += second_weight * pixel
            for i in range(out_h):
                start = uint64(i) * width
                for j in range(uint64(out_w)):
                    y[n, k, i, j] = first_row[start + j]
                    y[n, other, i, j] = second_row[start + j]


def _direct_weight_gradient(images, dy_rows, padded_width, dw):
    """dw[k, c, r, s] += sum over (n, q) of dy_rows[n, k, q] * images[n, c, q + r*Wp + s].

    images: (n, C, Hp*Wp) as in the forward pass; dy_rows: (n, K, Ho*Wp) dL/dy on rows of width Wp,
    zero in the columns past Wo; dw: (K, C, R, S), added to. Two output channels share each pass
    over the input.
    """
    batch, channels, plane_size = images.shape
    out_channels, _, kernel_h, kernel_w = dw.shape
    length = row_length(plane_size, padded_width, kernel_h, kernel_w)
    width = uint64(padded_width)
    for n in range(batch):
        for k in range(0, out_channels, 2):
            other = min(k + 1, out_channels - 1)
            first_grad, second_grad = dy_rows[n, k], dy_rows[n, other]
            for c in range(channels):
                image = images[n, c]
                for r in range(kernel_h):
                    for s in range(kernel_w):
                        shift = uint64(r) * width + uint64(s)
                        first_sum = first_grad[0] * image[shift]
                        second_sum = second_grad[0] * image[shift]
                        for q in range(uint64(1), length):
                            pixel = image[shift + q]
                            first_sum += first_grad[q] * pixel
                            second_sum += second_grad[q] * pixel
                        dw[k, c, r, s] += first_sum
                        if other != k:
                            dw[other, c, r, s] += second_sum


def _direct_input_gradient(dy_rows, w, padded_width, dx_images):
    """dx_images[n, c, q + r*Wp + s] = sum over (k, r, s) of w[k, c, r, s] * dy_rows[n, k, q].

    dy_rows: (n, K, Ho*Wp) as in the weight gradient; w: (K, C, R, S); dx_images: (n, C, Hp*Wp),
    overwritten with dL/d(padded input), each channel flattened row by row.
    """
    batch, channels, plane_size = dx_images.shape
    out_channels, _, kernel_h, kernel_w = w.shape
    length = row_length(plane_size, padded_width, kernel_h, kernel_w)
    width = uint64(padded_width)
    for n in range(batch):
        for c in range(channels):
            plane = dx_images[n, c]
            for p in range(uint64(plane_size)):
                plane[p] = 0
            for k in range(out_channels):
                grad = dy_rows[n, k]
                for r in range(kernel_h):
                    for s in range(kernel_w):
                        weight = w[k, c, r, s]
                        shift = uint64(r) * width + uint64(s)
                        for q in range(length):
                            plane[shift + q] += weight * grad[q]


row_length = cpu_kernel(_row_length)
direct_forward = cpu_kernel(_direct_forward)
# Reassociating the sums lets the compiler split them over vector lanes; they still add the same terms.
direct_weight_gradient = cpu_kernel(_direct_weight_gradient, reassociate=True)
direct_input_gradient = cpu_kernel(_direct_input_gradient)
