"""CUDA kernels for 2-D convolution: the three products as implicit GEMMs, and the biases.

Each product is the CPU's im2col product (see ``ops.conv``), run by the tiled kernel of
``cuda_tiled`` with accessors that read the column matrix straight from the NCHW arrays, so no
column matrix is built:

    forward        y   (K, N*Ho*Wo) = W (K, C*R*S) @ cols (C*R*S, N*Ho*Wo)
    weight grad    dW  (K, C*R*S)   = dY (K, N*Ho*Wo) @ cols.T
    input grad     dX  (C, N*H*W)   = W by channel (C, K*R*S) @ windows (K*R*S, N*H*W)

where cols[(c, r, s), (n, i, j)] = x[n, c, i*sh - ph + r, j*sw - pw + s] (0 in the padding) and
windows[(k, r, s), (n, h, w)] = dy[n, k, i, j] for the window (i, j) whose tap (r, s) lands on
(h, w), 0 when none does. The input gradient gathers instead of scattering, so no two threads write
the same element and no atomics are needed.

``geometry`` is (C, H, W, K, R, S, Ho, Wo, sh, sw, ph, pw). The bias gradient sums each (image,
channel) plane with one thread, then the planes of each channel in image order (``ops.conv`` uses
``cuda_linear.column_sums`` for that): no atomics, so the same input always gives the same bits.
Arrays are on the GPU already; ``ops.conv`` launches these with ``cuda_launch``.
"""
from numba import cuda

from .cuda_tiled import element, store_element, tiled_product


@cuda.jit(device=True)
def _split(index, middle, last):
    """(a, b, c) with index = (a * middle + b) * last + c, 0 <= b < middle and 0 <= c < last: the
    coordinates of a flat C-order index, e.g. (n, i, j) of a position over (N, Ho, Wo)."""
    rest, c = index // last, index % last
    return rest // middle, rest % middle, c


@cuda.jit(device=True)
def _image_column(x, tap, position, geometry):
    """cols[tap, position]: tap = (c, r, s), position = (n, i, j), both flat in C order."""
    _, height, width, _, kernel_h, kernel_w, out_h, out_w, stride_h, stride_w, pad_h, pad_w = geometry
    c, r, s = _split(tap, kernel_h, kernel_w)
    n, i, j = _split(position, out_h, out_w)
    h = i * stride_h - pad_h + r
    col = j * stride_w - pad_w + s
    if 0 <= h < height and 0 <= col < width:
        return x[n, c, h, col]
    return x.dtype.type(0)


@cuda.jit(device=True)
def _image_column_transposed(x, position, tap, geometry):
    return _image_column(x, tap, position, geometry)


@cuda.jit(device=True)
def _output_gradient(dy, k, position, geometry):
    """dY[k, position] = dy[n, k, i, j] for position = (n, i, j)."""
    n, i, j = _split(position, geometry[6], geometry[7])
    return dy[n, k, i, j]


@cuda.jit(device=True)
def _store_output(y, k, position, value, geometry):
    """y[n, k, i, j] = value for position = (n, i, j)."""
    n, i, j = _split(position, geometry[6], geometry[7])
    y[n, k, i, j] = value


@cuda.jit(device=True)
def _filter_by_channel(w, c, tap, geometry):
    """w[k, c, r, s] for tap = (k, r, s)."""
    k, r, s = _split(tap, geometry[4], geometry[5])
    return w[k, c, r, s]


@cuda.jit(device=True)
def _window_gradient(dy, tap, pixel, geometry):
    """windows[tap, pixel]: the gradient of the window whose tap (r, s) lands on the pixel (h, w),
    tap = (k, r, s), pixel = (n, h, w); 0 when no window does (h + ph - r not a multiple of the
    stride, or outside the output)."""
    _, height, width, _, kernel_h, kernel_w, out_h, out_w, stride_h, stride_w, pad_h, pad_w = geometry
    k, r, s = _split(tap, kernel_h, kernel_w)
    n, h, col = _split(pixel, height, width)
    shifted_h, shifted_w = h + pad_h - r, col + pad_w - s
    if shifted_h < 0 or shifted_w < 0 or shifted_h % stride_h != 0 or shifted_w % stride_w != 0:
        return dy.dtype.type(0)
    i, j = shifted_h // stride_h, shifted_w // stride_w
    if i >= out_h or j >= out_w:
        return dy.dtype.type(0)
    return dy[n, k, i, j]


@cuda.jit(device=True)
def _store_input(dx, c, pixel, value, geometry):
    """dx[n, c, h, w] = value for pixel = (n, h, w)."""
    n, h, col = _split(pixel, geometry[1], geometry[2])
    dx[n, c, h, col] = value


def forward_kernel(dtype_name: str):
    """y = W @ cols: a = w as a (K, C*R*S) matrix, b = x (N, C, H, W), c = y (N, K, Ho, Wo)."""
    return tiled_product(element, _image_column, _store_output, dtype_name)


def weight_gradient_kernel(dtype_name: str):
    """dW = dY @ cols.T: a = dy (N, K, Ho, Wo), b = x (N, C, H, W), c = dw as a (K, C*R*S) matrix."""
    return tiled_product(_output_gradient, _image_column_transposed, store_element, dtype_name)


def input_gradient_kernel(dtype_name: str):
    """dX = W by channel @ windows: a = w (K, C, R, S), b = dy (N, K, Ho, Wo), c = dx (N, C, H, W)."""
    return tiled_product(_filter_by_channel, _window_gradient, _store_input, dtype_name)


@cuda.jit
def add_channel_bias(y, b):
    """y[n, k, i, j] += b[k]. y: (N, K, Ho, Wo); b: (K,). One thread per element of y."""
    index = cuda.grid(1)
    if index < y.size:
        n_and_k, i, j = _split(index, y.shape[2], y.shape[3])
        y[n_and_k // y.shape[1], n_and_k % y.shape[1], i, j] += b[n_and_k % y.shape[1]]


@cuda.jit
def plane_sums(dy, sums):
    """sums[n, k] = sum over (i, j) of dy[n, k, i, j], in row order. dy: (N, K, Ho, Wo); sums: (N, K).
    One thread per (n, k)."""
    index = cuda.grid(1)
    batch, out_channels, out_h, out_w = dy.shape
    if index >= batch * out_channels:
        return
    n = index // out_channels
    k = index % out_channels
    total = sums.dtype.type(0)
    for i in range(out_h):
        for j in range(out_w):
            total += dy[n, k, i, j]
    sums[n, k] = total
