"""CUDA kernels for 2-D convolution, written directly over the NCHW arrays (no im2col).

Forward and input-gradient kernels run one thread per output element and gather the sum they
need, so no two threads write the same element. The weight and bias gradients are sums over the
whole batch; one thread per (image, gradient element) sums its image's share and adds it to the
gradient with an atomic add, which keeps the kernels short and gives N-fold more threads than
elements of dw.

Launch with ``cuda_launch.launch(kernel, item_count, ...)``; arrays are on the GPU already.
"""
from numba import cuda


@cuda.jit(device=True)
def unravel(index, shape):
    """The 4-D coordinates of element ``index`` of a C-ordered array of the given shape."""
    last = index % shape[3]
    index //= shape[3]
    third = index % shape[2]
    index //= shape[2]
    return index // shape[1], index % shape[1], third, last


@cuda.jit
def conv_forward(x, w, b, stride_h, stride_w, pad_h, pad_w, y):
    """y[n, k, i, j] = b[k] + sum over (c, r, s) of x[n, c, i*sh - ph + r, j*sw - pw + s] * w[k, c, r, s].

    x: (N, C, H, W); w: (K, C, R, S); b: (K,); y: (N, K, Ho, Wo). One thread per element of y.
    """
    index = cuda.grid(1)
    if index >= y.size:
        return
    _, channels, height, width = x.shape
    kernel_h, kernel_w = w.shape[2], w.shape[3]
    n, k, i, j = unravel(index, y.shape)
    total = b[k]
    for c in range(channels):
        for r in range(kernel_h):
            h = i * stride_h - pad_h + r
            if h < 0 or h >= height:
                continue
            for s in range(kernel_w):
                col = j * stride_w - pad_w + s
                if 0 <= col < width:
                    total += x[n, c, h, col] * w[k, c, r, s]
    y[n, k, i, j] = total


@cuda.jit
def conv_backward_input(dy, w, stride_h, stride_w, pad_h, pad_w, dx):
    """dx[n, c, h, x] = sum of dy[n, k, i, j] * w[k, c, r, s] over the windows (i, j) whose tap (r, s)
    lands on (h, x), i.e. i*sh - ph + r = h and j*sw - pw + s = x.

    dy: (N, K, Ho, Wo); w: (K, C, R, S); dx: (N, C, H, W). One thread per element of dx.
    """
    index = cuda.grid(1)
    if index >= dx.size:
        return
    out_channels, _, kernel_h, kernel_w = w.shape
    out_h, out_w = dy.shape[2], dy.shape[3]
    n, c, h, col = unravel(index, dx.shape)
    total = dx.dtype.type(0)
    for r in range(kernel_h):
        # Only taps r with (h + ph - r) a non-negative multiple of the stride come from a window.
        shifted_h = h + pad_h - r
        if shifted_h < 0 or shifted_h % stride_h != 0 or shifted_h // stride_h >= out_h:
            continue
        i = shifted_h // stride_h
        for s in range(kernel_w):
            shifted_w = col + pad_w - s
            if shifted_w < 0 or shifted_w % stride_w != 0 or shifted_w // stride_w >= out_w:
                continue
            j = shifted_w // stride_w
            for k in range(out_channels):
                total += dy[n, k, i, j] * w[k, c, r, s]
    dx[n, c, h, col] = total


@cuda.jit
def conv_backward_weight(dy, x, stride_h, stride_w, pad_h, pad_w, dw):
    """dw[k, c, r, s] += sum over (n, i, j) of dy[n, k, i, j] * x[n, c, i*sh - ph + r, j*sw - pw + s].

    dy: (N, K, Ho, Wo); x: (N, C, H, W); dw: (K, C, R, S), zeroed by the caller. One thread per
    (n, k, c, r, s): it sums over one image's output positions and adds that atomically to dw.
    """
    index = cuda.grid(1)
    if index >= x.shape[0] * dw.size:
        return
    out_h, out_w = dy.shape[2], dy.shape[3]
    height, width = x.shape[2], x.shape[3]
    # n varies slowest, so the threads of a block share an image and tend to read nearby pixels.
    n = index // dw.size
    k, c, r, s = unravel(index % dw.size, dw.shape)
    total = dw.dtype.type(0)
    for i in range(out_h):
        h = i * stride_h - pad_h + r
        if h < 0 or h >= height:
            continue
        for j in range(out_w):
            col = j * stride_w - pad_w + s
            if 0 <= col < width:
                total += dy[n, k, i, j] * x[n, c, h, col]
    cuda.atomic.add(dw, (k, c, r, s), total)


@cuda.jit
def conv_backward_bias(dy, db):
    """db[k] += sum over (n, i, j) of dy[n, k, i, j]. dy: (N, K, Ho, Wo); db: (K,), zeroed by the
    caller. One thread per (n, k), adding atomically to db[k]."""
    index = cuda.grid(1)
    batch, out_channels, out_h, out_w = dy.shape
    if index >= batch * out_channels:
        return
    n = index // out_channels
    k = index % out_channels
    total = db.dtype.type(0)
    for i in range(out_h):
        for j in range(out_w):
            total += dy[n, k, i, j]
    cuda.atomic.add(db, k, total)

