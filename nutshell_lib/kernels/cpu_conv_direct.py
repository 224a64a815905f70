"""CPU kernels for a direct stride-1 convolution with few output channels: no column matrix.

With few filters (a network's first layer: 6 filters over 3 colour channels), im2col copies every
pixel R*S times into a column matrix that the BLAS then reads once for a product with only K
rows, so the copies cost as much as the arithmetic. These kernels skip the copies.

The trick: lay each zero-padded image channel out flat, row after row (width Wp = W + 2*pw). For
stride 1, output (i, j) sits at flat position q = i*Wp + j, and kernel tap (r, s) reads the input at
q + r*Wp + s. So one tap's contribution to a whole output channel is a single long, contiguous
multiply-add, ``out[q] += w[k, c, r, s] * image[q + r*Wp + s]`` for q in range(L), with
L = (Ho - 1)*Wp + Wo: a loop the compiler vectorises. Positions with j >= Wo (the last S - 1 of each
row of Wp) are computed and thrown away; that is the price of the long loop. The backward kernel
spreads dy on rows of width Wp the same way, with zeros in the thrown-away columns, so that they
add nothing.

Five neighbouring taps of a kernel row (s to s + 4) share one such loop, so that each output
element is loaded and stored once for five multiply-adds; kernels narrower than five, and the taps
left over, go one tap per loop.

Each kernel does the images [first_image, last_image) of the batch, one image at a time in scratch
arrays of its own, so that the kit's threads (``ops.threads.run_in_blocks``) can call it directly,
without Python code between the blocks. Indices into the flat rows are unsigned (``uint64``): with
signed ones Numba must allow for negative indices counting from the end, which kept LLVM from
vectorising the inner loops (5x slower, measured).
"""
import numpy as np
from numba import uint64

from .jit import cpu_kernel


def _pad_image(x, n, pad_h, pad_w, padded):
    """padded (C, Hp*Wp) = image n of x (N, C, H, W) with zeros around it, each channel flat."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    padded_width = width + 2 * pad_w
    padded[:, :] = 0
    for c in range(channels):
        for h in range(height):
            start = uint64((h + pad_h) * padded_width + pad_w)
            for col in range(uint64(width)):
                padded[c, start + col] = x[n, c, h, col]


def _direct_forward(first_image, last_image, x, w, b, pad_h, pad_w, y):
    """y[n, k, i, j] = b[k] + sum over (c, r, s) of w[k, c, r, s] * x_padded[n, c, i + r, j + s].

    x: (N, C, H, W); w: (K, C, R, S); b: (K,); y: (N, K, Ho, Wo), images [first_image, last_image)
    overwritten. Two output channels share each pass over the input (an odd last channel is
    paired with itself).
    """
    channels = x.shape[1]
    out_channels, _, kernel_h, kernel_w = w.shape
    out_h, out_w = y.shape[2], y.shape[3]
    width = uint64(x.shape[3] + 2 * pad_w)
    length = uint64(out_h - 1) * width + uint64(out_w)
    padded = np.empty((channels, (x.shape[2] + 2 * pad_h) * (x.shape[3] + 2 * pad_w)), x.dtype)
    first_row = np.empty(length, x.dtype)
    second_row = np.empty(length, x.dtype)
    grouped = kernel_w - kernel_w % 5  # taps in groups of five; the rest one at a time
    for n in range(first_image, last_image):
        pad_image(x, n, pad_h, pad_w, padded)
        for k in range(0, out_channels, 2):
            other = min(k + 1, out_channels - 1)
            for q in range(length):
                first_row[q] = b[k]
                second_row[q] = b[other]
            for c in range(channels):
                image = padded[c]
                for r in range(kernel_h):
                    row_shift = uint64(r) * width
                    for s in range(0, grouped, 5):
                        # Five neighbouring taps in one pass: each output element is loaded and
                        # stored once for five multiply-adds, not once for each.
                        a0, a1, a2, a3, a4 = (w[k, c, r, s], w[k, c, r, s + 1], w[k, c, r, s + 2],
                                              w[k, c, r, s + 3], w[k, c, r, s + 4])
                        b0, b1, b2, b3, b4 = (w[other, c, r, s], w[other, c, r, s + 1], w[other, c, r, s + 2],
                                              w[other, c, r, s + 3], w[other, c, r, s + 4])
                        shift = row_shift + uint64(s)
                        for q in range(length):
                            p0, p1, p2 = image[shift + q], image[shift + uint64(1) + q], image[shift + uint64(2) + q]
                            p3, p4 = image[shift + uint64(3) + q], image[shift + uint64(4) + q]
                            first_row[q] += a0 * p0 + a1 * p1 + a2 * p2 + a3 * p3 + a4 * p4
                            second_row[q] += b0 * p0 + b1 * p1 + b2 * p2 + b3 * p3 + b4 * p4
                    for s in range(grouped, kernel_w):
                        first_weight, second_weight = w[k, c, r, s], w[other, c, r, s]
                        shift = row_shift + uint64(s)
                        for q in range(length):
                            pixel = image[shift + q]
                            first_row[q] += first_weight * pixel
                            second_row[q] += second_weight * pixel
            for i in range(out_h):
                start = uint64(i) * width
                for j in range(uint64(out_w)):
                    y[n, k, i, j] = first_row[start + j]
                    y[n, other, i, j] = second_row[start + j]


def _direct_backward(first_image, last_image, dy, x, w, pad_h, pad_w, input_grad, dx):
    """Gradients through _direct_forward for the images [first_image, last_image).

    dy: (N, K, Ho, Wo) dL/dy; x: (N, C, H, W) and w: (K, C, R, S) as in the forward pass.
    Returns these images' share of dw, (K, C, R, S):
    dw[k, c, r, s] = sum over (n, i, j) of dy[n, k, i, j] * x_padded[n, c, i + r, j + s].
    With input_grad, also overwrites dx[n] (dx: (N, C, H, W)) with dL/dx: each tap's weight times
    the whole of dy's channel, added at the tap's shift, then the padding cropped.

    As in the forward kernel, five neighbouring taps of a kernel row share one pass. For dx the
    pass gathers instead of scattering: padded_dx[shift + q] += sum over t of w[..., s + t] *
    grad[q - t], which reads dy's rows up to four places before their start, so each row of
    ``grad_rows`` begins with four zeros.
    """
    channels, height, in_w = x.shape[1], x.shape[2], x.shape[3]
    out_channels, _, kernel_h, kernel_w = w.shape
    out_h, out_w = dy.shape[2], dy.shape[3]
    width = uint64(in_w + 2 * pad_w)
    length = uint64(out_h - 1) * width + uint64(out_w)
    plane = (height + 2 * pad_h) * (in_w + 2 * pad_w)
    padded = np.empty((channels, plane), x.dtype)
    padded_dx = np.empty(plane, x.dtype)
    # Each channel of dy, laid out flat on rows of width Wp, with four zeros before and after it for
    # dx's gather, which reads up to four places beyond either end; the columns past Wo stay 0.
    lead = uint64(4)
    grad_rows = np.zeros((out_channels, 4 + out_h * (in_w + 2 * pad_w) + 4), x.dtype)
    dw = np.zeros(w.shape, x.dtype)
    grouped = kernel_w - kernel_w % 5
    for n in range(first_image, last_image):
        pad_image(x, n, pad_h, pad_w, padded)
        for k in range(out_channels):
            for i in range(out_h):
                start = lead + uint64(i) * width
                for j in range(uint64(out_w)):
                    grad_rows[k, start + j] = dy[n, k, i, j]
        for k in range(0, out_channels, 2):
            other = min(k + 1, out_channels - 1)
            first_grad, second_grad = grad_rows[k, lead:], grad_rows[other, lead:]
            for c in range(channels):
                image = padded[c]
                for r in range(kernel_h):
                    row_shift = uint64(r) * width
                    for s in range(0, grouped, 5):
                        shift = row_shift + uint64(s)
                        a0 = a1 = a2 = a3 = a4 = b0 = b1 = b2 = b3 = b4 = x.dtype.type(0)
                        for q in range(length):
                            p0, p1, p2 = image[shift + q], image[shift + uint64(1) + q], image[shift + uint64(2) + q]
                            p3, p4 = image[shift + uint64(3) + q], image[shift + uint64(4) + q]
                            first, second = first_grad[q], second_grad[q]
                            a0 += first * p0
                            a1 += first * p1
                            a2 += first * p2
                            a3 += first * p3
                            a4 += first * p4
                            b0 += second * p0
                            b1 += second * p1
                            b2 += second * p2
                            b3 += second * p3
                            b4 += second * p4
                        dw[k, c, r, s] += a0
                        dw[k, c, r, s + 1] += a1
                        dw[k, c, r, s + 2] += a2
                        dw[k, c, r, s + 3] += a3
                        dw[k, c, r, s + 4] += a4
                        if other != k:
                            dw[other, c, r, s] += b0
                            dw[other, c, r, s + 1] += b1
                            dw[other, c, r, s + 2] += b2
                            dw[other, c, r, s + 3] += b3
                            dw[other, c, r, s + 4] += b4
                    for s in range(grouped, kernel_w):
                        shift = row_shift + uint64(s)
                        first_sum = first_grad[0] * image[shift]
                        second_sum = second_grad[0] * image[shift]
                        for q in range(uint64(1), length):
                            pixel = image[shift + q]
                            first_sum += first_grad[q] * pixel
                            second_sum += second_grad[q] * pixel
                        dw[k, c, r, s] += first_sum
                        if other != k:
                            dw[other, c, r, s] += second_sum
        if not input_grad:
            continue
        for c in range(channels):
            padded_dx[:] = 0
            for k in range(out_channels):
                grad = grad_rows[k]  # grad[lead + q] is dy's channel k at flat position q
                for r in range(kernel_h):
                    row_shift = uint64(r) * width
                    for s in range(0, grouped, 5):
                        w0, w1, w2, w3, w4 = (w[k, c, r, s], w[k, c, r, s + 1], w[k, c, r, s + 2],
                                              w[k, c, r, s + 3], w[k, c, r, s + 4])
                        shift = row_shift + uint64(s)
                        for q in range(length + lead):
                            padded_dx[shift + q] += (w0 * grad[lead + q] + w1 * grad[lead - uint64(1) + q]
                                                     + w2 * grad[lead - uint64(2) + q] + w3 * grad[lead - uint64(3) + q]
                                                     + w4 * grad[q])
                    for s in range(grouped, kernel_w):
                        weight = w[k, c, r, s]
                        shift = row_shift + uint64(s)
                        for q in range(length):
                            padded_dx[shift + q] += weight * grad[lead + q]
            for h in range(height):
                start = uint64((h + pad_h)) * width + uint64(pad_w)
                for col in range(uint64(in_w)):
                    dx[n, c, h, col] = padded_dx[start + col]
    return dw


pad_image = cpu_kernel(_pad_image)
# Fused multiply-adds (15-20% faster forward, measured); reassociating dw's sums lets the compiler
# split them over vector lanes. Both change results by rounding only.
direct_forward = cpu_kernel(_direct_forward, reassociate=True)
direct_backward = cpu_kernel(_direct_backward, reassociate=True)
