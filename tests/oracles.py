"""The tests' independent oracles, written once: convolution, dense maps and pooling as plain
float64 loops over their definitions (no code shared with nutshell_lib), and central differences."""
import numpy as np
from hypothesis import strategies as st


def central_difference(f, array, step=1e-6):
    """d f() / d array by float64 central differences, moving one entry of ``array`` at a time
    (in place, restored after); ``f`` reads ``array`` and returns a scalar."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + step
        plus = f()
        array[index] = saved - step
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * step)
    return grad


# Convolution (cross-correlation): x (N, C, H, W), w (K, C, R, S), b (K,), stride and padding (h, w) pairs.

def conv2d_loops(x, w, b, stride, padding):
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n_batch, _, hp, wp = xp.shape
    k_out, _, r, s = w.shape
    out_h, out_w = (hp - r) // sh + 1, (wp - s) // sw + 1
    y = np.zeros((n_batch, k_out, out_h, out_w))
    for n in range(n_batch):
        for k in range(k_out):
            for i in range(out_h):
                for j in range(out_w):
                    y[n, k, i, j] = np.sum(xp[n, :, i * sh:i * sh + r, j * sw:j * sw + s] * w[k]) + b[k]
    return y


def conv2d_backward_loops(dy, x, w, stride, padding):
    """(dx, dw, db): scatter each output's gradient back onto the window it read from."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    _, _, r, s = w.shape
    n_batch, k_out, out_h, out_w = dy.shape
    for n in range(n_batch):
        for k in range(k_out):
            for i in range(out_h):
                for j in range(out_w):
                    window = (n, slice(None), slice(i * sh, i * sh + r), slice(j * sw, j * sw + s))
                    dxp[window] += dy[n, k, i, j] * w[k]
                    dw[k] += dy[n, k, i, j] * xp[window]
    dx = dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    return dx, dw, dy.sum(axis=(0, 2, 3))


# Dense: y = x @ w + b with x (N, D), w (D, M), b (M,).

def dense_loops(x, w, b):
    y = np.zeros((x.shape[0], w.shape[1]))
    for n in range(x.shape[0]):
        for m in range(w.shape[1]):
            y[n, m] = b[m] + sum(float(x[n, d]) * float(w[d, m]) for d in range(x.shape[1]))
    return y


def dense_backward_loops(dy, x, w):
    """(dx, dw, db) for dy (N, M)."""
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    for n in range(x.shape[0]):
        for m in range(w.shape[1]):
            for d in range(x.shape[1]):
                dx[n, d] += float(dy[n, m]) * float(w[d, m])
                dw[d, m] += float(x[n, d]) * float(dy[n, m])
    return dx, dw, dy.astype(np.float64).sum(axis=0)


# Pooling: no padding, floor at the edges; size and stride (h, w) pairs.


def windows(x, size, stride):
    """Yield (n, c, i, j, window) for every window that fits, no padding, floor at the edges."""
    (size_h, size_w), (stride_h, stride_w) = size, stride
    batch, channels, height, width = x.shape
    for n in range(batch):
        for c in range(channels):
            for i in range((height - size_h) // stride_h + 1):
                for j in range((width - size_w) // stride_w + 1):
                    top, left = i * stride_h, j * stride_w
                    yield n, c, i, j, (slice(top, top + size_h), slice(left, left + size_w))


def output_shape(x, size, stride):
    batch, channels, height, width = x.shape
    return batch, channels, (height - size[0]) // stride[0] + 1, (width - size[1]) // stride[1] + 1


def max_pool(x, size, stride):
    y = np.empty(output_shape(x, size, stride), x.dtype)
    for n, c, i, j, (rows, cols) in windows(x, size, stride):
        y[n, c, i, j] = x[n, c, rows, cols].max()
    return y


def max_pool_backward(dy, x, size, stride):
    """np.argmax returns the first maximum in row-major order (and the first NaN): the rule under test."""
    dx = np.zeros_like(x)
    for n, c, i, j, (rows, cols) in windows(x, size, stride):
        window = x[n, c, rows, cols]
        row, col = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, rows.start + row, cols.start + col] += dy[n, c, i, j]
    return dx


def avg_pool(x, size, stride):
    y = np.empty(output_shape(x, size, stride), np.float64)
    for n, c, i, j, (rows, cols) in windows(x, size, stride):
        y[n, c, i, j] = x[n, c, rows, cols].astype(np.float64).mean()
    return y


def avg_pool_backward(dy, x, size, stride):
    dx = np.zeros(x.shape, np.float64)
    for n, c, i, j, (rows, cols) in windows(x, size, stride):
        dx[n, c, rows, cols] += dy[n, c, i, j] / (size[0] * size[1])
    return dx


@st.composite
def pooling_cases(draw, max_batch=3, max_channels=3, max_side=9, ties=True):
    """(x, size, stride) with x of a random float dtype and shape; some inputs full of ties."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    batch = draw(st.integers(1, max_batch))
    channels = draw(st.integers(1, max_channels))
    height = draw(st.integers(1, max_side))
    width = draw(st.integers(1, max_side))
    size = (draw(st.integers(1, height)), draw(st.integers(1, width)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (batch, channels, height, width)
    if ties and draw(st.booleans()):
        x = rng.integers(0, 3, shape).astype(dtype)  # many equal maxima in each window
    else:
        x = rng.standard_normal(shape).astype(dtype)
    return x, size, stride


@st.composite
def tiling_pooling_cases(draw, max_batch=3, max_channels=3, max_side=11):
    """(x, size, stride) with stride == size, windows that need not divide the image, and inputs
    full of ties (small integers) or holding NaNs in some examples."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)),
             draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    size = (draw(st.integers(1, shape[2])), draw(st.integers(1, shape[3])))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        x = rng.integers(0, 3, shape).astype(dtype)  # many equal maxima in each window
    else:
        x = rng.standard_normal(shape).astype(dtype)
    if draw(st.booleans()):
        x[rng.random(shape) < draw(st.sampled_from([0.05, 0.3]))] = np.nan
    return x, size, size
