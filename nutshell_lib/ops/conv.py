"""2-D convolution (cross-correlation, as in every deep-learning library), forward and backward.

Shapes: x (N, C, H, W) images, w (K, C, R, S) filters, b (K,) biases, y and dy (N, K, Ho, Wo) with
Ho = (H + 2*ph - R) // sh + 1 and Wo = (W + 2*pw - S) // sw + 1 for stride (sh, sw), padding (ph, pw).

On the CPU the convolution is one matrix product: im2col copies every input window into a column,
the BLAS multiplies the (K, C*R*S) filter matrix by the (C*R*S, N*Ho*Wo) column matrix, and the
backward pass multiplies by the transposes and adds the columns back (col2im). Each thread takes a
share of the batch and does all of its work (the BLAS on one thread; see ``threads``), a few images
at a time so that its column matrix stays within COLUMN_CHUNK_ELEMENTS. A float32 stride-1 layer
with at most DIRECT_MAX_FILTERS filters skips the columns: with so few rows in the product, copying
the windows costs as much as multiplying them, and the direct kernels of
``nutshell_lib.kernels.cpu_conv_direct`` run it without copies. A float32 stride-1 3x3 layer with
more filters and at least WINOGRAD_MIN_CHANNELS channels runs forward by Winograd's algorithm
(``winograd``), with 2.25x fewer multiply-adds. On a GPU, the tiled kernel
runs the same products, reading the columns straight from the images instead of building them (an
implicit GEMM, see ``nutshell_lib.kernels.cuda_conv``). Which device runs and where the results
live follows the rule in ``device``: device arrays in, device arrays out.
"""
from __future__ import annotations

import numpy as np

from ..kernels.cpu_conv import col2im, im2col
from ..kernels.cpu_conv_direct import direct_backward, direct_forward
from ..kernels.jit import FAST_KERNEL_DTYPE
from . import winograd
from .threads import COLUMN_CHUNK_ELEMENTS, run_blas_in_blocks, run_in_blocks
from .device import resolve_device, results, to_gpu
from .validate import as_float_array, output_size, pair

X_LAYOUT = "(N, C, H, W)"
W_LAYOUT = "(K, C, R, S)"

# Up to this many filters, a stride-1 float32 convolution runs the direct kernels. Forward and
# backward, 2 threads, against im2col and the BLAS: 0.58-0.97x the time with 16 filters (3x3 and 5x5
# kernels), 1.12x with 24, 1.06-1.52x with 32 from 3 channels on (benchmarks/bench_conv_paths.py;
# docs/benchmarks.md, "Five taps per pass, Winograd for 3x3").
DIRECT_MAX_FILTERS = 16

# A stride-1 float32 3x3 layer with more filters than that and at least this many input channels
# runs forward by Winograd's algorithm. Its forward pass took 0.63-0.81x im2col's time from 16
# channels on (images 4x4 to 32x32), 0.87x with 8 channels, 1.33-1.40x with 3 and 7.5x with 1
# (same benchmark).
WINOGRAD_MIN_CHANNELS = 8


def conv2d(x, w, b=None, *, stride=1, padding=0, device="auto"):
    """Convolve a batch of images with a bank of filters.

    x: (N, C, H, W) input; its dtype (float32 or float64) is the dtype of every result.
    w: (K, C, R, S) filters: K output channels, each an R x S window over all C input channels.
    b: (K,) bias added to each output channel, or None for no bias.
    stride, padding: int or (h, w) pair; padding adds zeros around each image.
    device: "auto" (the GPU when an argument is a device array, else the CPU), "cpu" or "cuda".

    Returns y: (N, K, Ho, Wo) with y[n, k, i, j] = b[k] + sum over (c, r, s) of
    x_padded[n, c, i*sh + r, j*sw + s] * w[k, c, r, s].
    """
    x, w, stride, padding, out_shape = _check_inputs(x, w, stride, padding)
    if b is None:
        b = np.zeros(w.shape[0], x.dtype)
    else:
        b = as_float_array("b", b, 1, "(K,)", dtype=x.dtype)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape (K,) = ({w.shape[0]},) for w of shape {w.shape}, got shape {b.shape}")
    inputs = dict(x=x, w=w, b=b)
    if resolve_device(device, inputs) == "cuda":
        return results(inputs, _forward_cuda(x, w, b, stride, padding, out_shape))
    return _forward_cpu(x, w, b, stride, padding, out_shape)


def conv2d_backward(dy, x, w, *, stride=1, padding=0, device="auto", input_grad=True):
    """Gradients of a loss L through ``y = conv2d(x, w, b, stride=stride, padding=padding)``.

    dy: (N, K, Ho, Wo) dL/dy, the shape of conv2d's output.
    x: (N, C, H, W) and w: (K, C, R, S): the forward pass's inputs; stride, padding, device as there.
    input_grad: False skips dx (returned as None). A network's first layer needs no gradient for
    its input images, and dx is about half of the backward pass's work.

    Returns (dx, dw, db): dx (N, C, H, W) = dL/dx, dw (K, C, R, S) = dL/dw, db (K,) = dL/db, all of
    x's dtype.
    """
    x, w, stride, padding, out_shape = _check_inputs(x, w, stride, padding)
    dy = as_float_array("dy", dy, 4, "(N, K, Ho, Wo)", dtype=x.dtype)
    if dy.shape != out_shape:
        raise ValueError(
            f"dy must have the shape of conv2d's output (N, K, Ho, Wo) = {out_shape} for x of shape {x.shape}, "
            f"w of shape {w.shape}, stride {stride}, padding {padding}; got shape {dy.shape}"
        )
    inputs = dict(dy=dy, x=x, w=w)
    if resolve_device(device, inputs) == "cuda":
        return results(inputs, *_backward_cuda(dy, x, w, stride, padding, input_grad))
    return _backward_cpu(dy, x, w, stride, padding, input_grad)


def _check_inputs(x, w, stride, padding):
    """Validate the arguments shared by forward and backward; return them normalised plus y's shape."""
    x = as_float_array("x", x, 4, X_LAYOUT)
    w = as_float_array("w", w, 4, W_LAYOUT, dtype=x.dtype)
    stride = pair("stride", stride, minimum=1)
    padding = pair("padding", padding, minimum=0)
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"x {X_LAYOUT} and w {W_LAYOUT} must not have empty axes, got x of shape {x.shape} and w of shape {w.shape}")
    batch, channels, height, width = x.shape
    out_channels, w_channels, kernel_h, kernel_w = w.shape
    if w_channels != channels:
        raise ValueError(
            f"w {W_LAYOUT} has C = {w_channels} input channels but x {X_LAYOUT} has C = {channels}: "
            f"x has shape {x.shape}, w has shape {w.shape}"
        )
    padded_h, padded_w = height + 2 * padding[0], width + 2 * padding[1]
    if kernel_h > padded_h or kernel_w > padded_w:
        raise ValueError(
            f"the {kernel_h}x{kernel_w} kernel of w (shape {w.shape}) is larger than the padded input "
            f"{padded_h}x{padded_w} (x has shape {x.shape}, padding {padding})"
        )
    out_shape = (
        batch,
        out_channels,
        output_size(height, kernel_h, stride[0], padding[0]),
        output_size(width, kernel_w, stride[1], padding[1]),
    )
    return x, w, stride, padding, out_shape


def _is_pointwise(w, stride, padding) -> bool:
    """A 1x1 kernel with stride 1 and no padding: the columns are the input itself, no im2col needed."""
    return w.shape[2:] == (1, 1) and stride == (1, 1) and padding == (0, 0)


def _is_direct(w, stride, padding) -> bool:
    """Few filters, stride 1, FAST_KERNEL_DTYPE (float32): the direct kernels (1x1 kernels without
    padding have their own path)."""
    return (stride == (1, 1) and w.shape[0] <= DIRECT_MAX_FILTERS and w.dtype == FAST_KERNEL_DTYPE
            and not _is_pointwise(w, stride, padding))


def _is_winograd(w, stride, padding) -> bool:
    """A 3x3 kernel, stride 1, FAST_KERNEL_DTYPE, at least WINOGRAD_MIN_CHANNELS input channels
    and more filters than the direct kernels take: the forward pass by Winograd's F(2x2, 3x3) (see
    ``winograd``). The backward pass stays with im2col: dx and dw by Winograd were tried and gained
    nothing on the whole backward pass (docs/benchmarks.md, "Five taps per pass, Winograd for 3x3")."""
    return (w.shape[2:] == (3, 3) and stride == (1, 1) and w.shape[1] >= WINOGRAD_MIN_CHANNELS
            and w.dtype == FAST_KERNEL_DTYPE and not _is_direct(w, stride, padding))


def _column_elements(x, w, out_shape) -> int:
    """Elements of the whole batch's im2col matrix: how the ops size a convolution's work."""
    return w.shape[1] * w.shape[2] * w.shape[3] * x.shape[0] * out_shape[2] * out_shape[3]


def _over_images(function, x, w, out_shape, *args) -> list:
    """Call ``function(first_image, last_image, *args)`` on blocks of the batch, which the kit's
    threads take in turn, and return the blocks' results. A thread does all the work for a block's
    images: im2col, its own BLAS products (the BLAS on one thread), col2im."""
    return run_blas_in_blocks(function, x.shape[0], _column_elements(x, w, out_shape), *args)


def _batch_chunks(first_image, last_image, w, out_shape):
    """Slices of images [first_image, last_image), each small enough for its columns to fit in
    COLUMN_CHUNK_ELEMENTS (larger batches go in chunks; each BLAS product keeps a few hundred columns)."""
    taps = w.shape[1] * w.shape[2] * w.shape[3]
    per_image = taps * out_shape[2] * out_shape[3]
    step = max(1, COLUMN_CHUNK_ELEMENTS // per_image)
    return [slice(start, min(start + step, last_image)) for start in range(first_image, last_image, step)]


def _columns(x, w, stride, padding, out_shape):
    """im2col of x (n, C, H, W) on the calling thread: the (C*R*S, n*Ho*Wo) column matrix."""
    _, channels, kernel_h, kernel_w = w.shape
    col = np.empty((channels * kernel_h * kernel_w, x.shape[0], out_shape[2], out_shape[3]), x.dtype)
    im2col(x, kernel_h, kernel_w, *stride, *padding, col)
    return col.reshape(col.shape[0], -1)


def _forward_cpu(x, w, b, stride, padding, out_shape):
    """y (N, K, Ho, Wo) = (K, C*R*S) filter matrix @ (C*R*S, N*Ho*Wo) columns, plus b (K,)."""
    y = np.empty(out_shape, x.dtype)
    if _is_direct(w, stride, padding):
        run_in_blocks(direct_forward, x.shape[0], _column_elements(x, w, out_shape), x, w, b, *padding, y)
    elif _is_winograd(w, stride, padding):
        _over_images(winograd.convolve_images, x, w, out_shape, x, winograd.transformed_filters(w), b, padding, y)
    else:
        _over_images(_forward_images, x, w, out_shape, x, w, b, stride, padding, y)
    return y


def _forward_images(first_image, last_image, x, w, b, stride, padding, y):
    """Fill y[first_image:last_image] (one thread's share of _forward_cpu)."""
    out_channels = w.shape[0]
    filters = w.reshape(out_channels, -1)
    if _is_pointwise(w, stride, padding):
        # Per image, (K, C) @ (C, H*W) lands directly in NCHW order.
        count = last_image - first_image
        block = y[first_image:last_image].reshape(count, out_channels, -1)
        np.matmul(filters, x[first_image:last_image].reshape(count, x.shape[1], -1), out=block)
        block += b[:, None]
        return
    for chunk in _batch_chunks(first_image, last_image, w, y.shape):
        images = x[chunk]
        channel_major = filters @ _columns(images, w, stride, padding, y.shape)  # (K, n*Ho*Wo)
        # Reorder (K, n, P) to (n, K, P) while adding the bias: one pass over y.
        np.add(channel_major.reshape(out_channels, images.shape[0], -1).transpose(1, 0, 2), b[:, None],
               out=y[chunk].reshape(images.shape[0], out_channels, -1))


def _backward_cpu(dy, x, w, stride, padding, input_grad):
    """With dY the (K, N*Ho*Wo) matrix of dy and col the columns of x: dw = dY @ col.T,
    dx = col2im(W.T @ dY), db = dy summed over (n, i, j). Shapes as in conv2d_backward."""
    dx = np.empty_like(x) if input_grad else None
    if _is_direct(w, stride, padding):
        partial_dws = run_in_blocks(direct_backward, x.shape[0], _column_elements(x, w, dy.shape),
                                    dy, x, w, *padding, input_grad, np.empty((0,) * 4, x.dtype) if dx is None else dx)
    else:
        partial_dws = _over_images(_backward_images, x, w, dy.shape, dy, x, w, stride, padding, dx)
    return dx, sum(partial_dws).reshape(w.shape), dy.sum(axis=(0, 2, 3))


def _backward_images(first_image, last_image, dy, x, w, stride, padding, dx):
    """One thread's share of _backward_cpu: fill dx[first_image:last_image] (unless dx is None)
    and return these images' contribution to dw, as a (K, C*R*S) matrix."""
    _, out_channels, out_h, out_w = dy.shape
    filters = w.reshape(out_channels, -1)
    if _is_pointwise(w, stride, padding):
        count = last_image - first_image
        images = x[first_image:last_image].reshape(count, x.shape[1], -1)
        per_image = dy[first_image:last_image].reshape(count, out_channels, -1)
        if dx is not None:
            np.matmul(filters.T, per_image, out=dx[first_image:last_image].reshape(images.shape))
        return np.matmul(per_image, images.transpose(0, 2, 1)).sum(axis=0)
    dw = np.zeros(filters.shape, x.dtype)
    for chunk in _batch_chunks(first_image, last_image, w, dy.shape):
        images = x[chunk]
        col = _columns(images, w, stride, padding, dy.shape)
        dy_channel_major = np.ascontiguousarray(dy[chunk].reshape(images.shape[0], out_channels, -1).transpose(1, 0, 2))
        dy_channel_major = dy_channel_major.reshape(out_channels, -1)
        # (col @ dY.T).T, not dY @ col.T: OpenBLAS is ~40x slower on a product with few rows (K) and a
        # long inner dimension (n*Ho*Wo) than on the same product transposed.
        dw += (col @ dy_channel_major.T).T
        if dx is None:
            continue
        dcol = filters.T @ dy_channel_major  # (C*R*S, n*Ho*Wo)
        col2im(dcol.reshape(-1, images.shape[0], out_h, out_w),
               w.shape[2], w.shape[3], *stride, *padding, dx[chunk])
    return dw


def _geometry(x, w, stride, padding, out_shape):
    """The kernels' (C, H, W, K, R, S, Ho, Wo, sh, sw, ph, pw)."""
    return (*x.shape[1:], w.shape[0], *w.shape[2:], *out_shape[2:], *stride, *padding)


def _forward_cuda(x, w, b, stride, padding, out_shape):
    """y (N, K, Ho, Wo) on the GPU for x (N, C, H, W), w (K, C, R, S), b (K,) (copied there if on the
    host): the (K, C*R*S) filter matrix times the implicit columns, then the bias."""
    from numba import cuda

    from ..kernels import cuda_conv
    from ..kernels.cuda_launch import launch, launch_tiles
    from ..kernels.cuda_tiled import TILE

    x, w = to_gpu(x), to_gpu(w)
    y = cuda.device_array(out_shape, x.dtype)
    taps, positions = w.size // w.shape[0], y.size // w.shape[0]
    filters = w.reshape(w.shape[0], taps)
    launch_tiles(cuda_conv.forward_kernel(x.dtype.name), w.shape[0], positions, TILE,
                 filters, x, y, w.shape[0], taps, positions, _geometry(x, w, stride, padding, out_shape))
    launch(cuda_conv.add_channel_bias, y.size, y, to_gpu(b))
    return y


def _backward_cuda(dy, x, w, stride, padding, input_grad):
    """(dx, dw, db) on the GPU (dx None without input_grad) for dy, x, w (copied there if on the
    host): the two products of the CPU's backward pass with implicit columns, and the bias sums."""
    from numba import cuda

    from ..kernels import cuda_conv, cuda_linear
    from ..kernels.cuda_launch import launch, launch_tiles
    from ..kernels.cuda_tiled import TILE

    dy, x, w = to_gpu(dy), to_gpu(x), to_gpu(w)
    geometry = _geometry(x, w, stride, padding, dy.shape)
    out_channels, taps = w.shape[0], w.size // w.shape[0]
    positions = dy.size // out_channels
    dw = cuda.device_array(w.shape, x.dtype)
    launch_tiles(cuda_conv.weight_gradient_kernel(x.dtype.name), out_channels, taps, TILE,
                 dy, x, dw.reshape(out_channels, taps), out_channels, positions, taps, geometry)
    per_image = cuda.device_array((x.shape[0], out_channels), x.dtype)
    launch(cuda_conv.plane_sums, per_image.size, dy, per_image)
    db = cuda.device_array(out_channels, x.dtype)
    launch(cuda_linear.column_sums, out_channels, per_image, db)
    dx = None
    if input_grad:
        dx = cuda.device_array(x.shape, x.dtype)
        channels, pixels = x.shape[1], x.size // x.shape[1]
        launch_tiles(cuda_conv.input_gradient_kernel(x.dtype.name), channels, pixels, TILE,
                     w, dy, dx, channels, out_channels * w.shape[2] * w.shape[3], pixels, geometry)
    return dx, dw, db
