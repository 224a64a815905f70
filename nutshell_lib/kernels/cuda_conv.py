"""CUDA kernels for 2-D convolution, written directly over the NCHW arrays (no im2col).

Forward and input-gradient kernels run one thread per output element and gather the sum they
need, so no two threads write the same element and no atomics are needed. The weight- and
bias-gradient kernels each run one block per output element: the block's threads split the long
sum over (n, i, j) and add their partial sums in shared memory.

Launch with ``kernel[blocks, THREADS](...)``; the caller copies arrays to and from the GPU.
"""
from numba import cuda

# Threads per block. A power of two, because block_sum halves the number of active threads per step.
THREADS = 128


def _conv_forward(x, w, b, stride_h, stride_w, pad_h, pad_w, y):
    """y[n, k, i, j] = b[k] + sum over (c, r, s) of x[n, c, i*sh - ph + r, j*sw - pw + s] * w[k, c, r, s].

    x: (N, C, H, W); w: (K, C, R, S); b: (K,); y: (N, K, Ho, Wo). One thread per element of y.
    """
    index = cuda.grid(1)
    if index >= y.size:
        return
    _, out_channels, out_h, out_w = y.shape
    _, channels, height, width = x.shape
    kernel_h, kernel_w = w.shape[2], w.shape[3]
    j = index % out_w
    i = (index // out_w) % out_h
    k = (index // (out_w * out_h)) % out_channels
    n = index // (out_w * out_h * out_channels)
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


def _conv_backward_input(dy, w, stride_h, stride_w, pad_h, pad_w, dx):
    """dx[n, c, h, x] = sum of dy[n, k, i, j] * w[k, c, r, s] over the windows (i, j) whose tap (r, s)
    lands on (h, x), i.e. i*sh - ph + r = h and j*sw - pw + s = x.

    dy: (N, K, Ho, Wo); w: (K, C, R, S); dx: (N, C, H, W). One thread per element of dx.
    """
    index = cuda.grid(1)
    if index >= dx.size:
        return
    _, channels, height, width = dx.shape
    out_channels, _, kernel_h, kernel_w = w.shape
    out_h, out_w = dy.shape[2], dy.shape[3]
    col = index % width
    h = (index // width) % height
    c = (index // (width * height)) % channels
    n = index // (width * height * channels)
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


def _block_sum(partial):
    """Add up partial[0:THREADS] into partial[0]. Every thread of the block must call this."""
    thread = cuda.threadIdx.x
    step = THREADS // 2
    cuda.syncthreads()
    while step > 0:
        if thread < step:
            partial[thread] += partial[thread + step]
        cuda.syncthreads()
        step //= 2


def _conv_backward_weight(dy, x, stride_h, stride_w, pad_h, pad_w, dw):
    """dw[k, c, r, s] = sum over (n, i, j) of dy[n, k, i, j] * x[n, c, i*sh - ph + r, j*sw - pw + s].

    dy: (N, K, Ho, Wo); x: (N, C, H, W); dw: (K, C, R, S). One block of THREADS threads per element of dw.
    """
    _, channels, kernel_h, kernel_w = dw.shape
    batch, _, out_h, out_w = dy.shape
    height, width = x.shape[2], x.shape[3]
    weight = cuda.blockIdx.x
    s = weight % kernel_w
    r = (weight // kernel_w) % kernel_h
    c = (weight // (kernel_w * kernel_h)) % channels
    k = weight // (kernel_w * kernel_h * channels)
    total = dw.dtype.type(0)
    for position in range(cuda.threadIdx.x, batch * out_h * out_w, THREADS):
        j = position % out_w
        i = (position // out_w) % out_h
        n = position // (out_w * out_h)
        h = i * stride_h - pad_h + r
        col = j * stride_w - pad_w + s
        if 0 <= h < height and 0 <= col < width:
            total += dy[n, k, i, j] * x[n, c, h, col]
    partial = cuda.shared.array(THREADS, dtype=dw.dtype)
    partial[cuda.threadIdx.x] = total
    block_sum(partial)
    if cuda.threadIdx.x == 0:
        dw[k, c, r, s] = partial[0]


def _conv_backward_bias(dy, db):
    """db[k] = sum over (n, i, j) of dy[n, k, i, j]. dy: (N, K, Ho, Wo); db: (K,). One block per k."""
    batch, _, out_h, out_w = dy.shape
    k = cuda.blockIdx.x
    total = db.dtype.type(0)
    for position in range(cuda.threadIdx.x, batch * out_h * out_w, THREADS):
        j = position % out_w
        i = (position // out_w) % out_h
        n = position // (out_w * out_h)
        total += dy[n, k, i, j]
    partial = cuda.shared.array(THREADS, dtype=db.dtype)
    partial[cuda.threadIdx.x] = total
    block_sum(partial)
    if cuda.threadIdx.x == 0:
        db[k] = partial[0]


block_sum = cuda.jit(_block_sum, device=True)
conv_forward = cuda.jit(_conv_forward)
conv_backward_input = cuda.jit(_conv_backward_input)
conv_backward_weight = cuda.jit(_conv_backward_weight)
conv_backward_bias = cuda.jit(_conv_backward_bias)
