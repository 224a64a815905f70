"""Pooling written as plain loops, independent of nutshell_lib: the oracles of the pool tests."""
import numpy as np
from hypothesis import strategies as st


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
