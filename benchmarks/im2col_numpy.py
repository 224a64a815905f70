"""The conventional pure-NumPy convolution (the CS231n assignment's im2col approach): the peer the
kit's Numba kernels are measured against.

im2col gathers all windows at once with fancy indexing; col2im scatters the column gradients back
with ``np.add.at``, which adds correctly where windows overlap. As usual in that design, the forward
pass returns a cache holding the columns, so the backward pass does not gather them again.
"""
import numpy as np


def window_indices(x_shape, kernel_h, kernel_w, stride, padding):
    """Index arrays (channel, row, col) into the padded input, each of shape (C*R*S, Ho*Wo)."""
    _, channels, height, width = x_shape
    out_h = (height + 2 * padding - kernel_h) // stride + 1
    out_w = (width + 2 * padding - kernel_w) // stride + 1
    tap_row = np.tile(np.repeat(np.arange(kernel_h), kernel_w), channels)
    tap_col = np.tile(np.arange(kernel_w), kernel_h * channels)
    window_row = stride * np.repeat(np.arange(out_h), out_w)
    window_col = stride * np.tile(np.arange(out_w), out_h)
    rows = tap_row[:, None] + window_row[None, :]
    cols = tap_col[:, None] + window_col[None, :]
    channel = np.repeat(np.arange(channels), kernel_h * kernel_w)[:, None]
    return channel, rows, cols, out_h, out_w


def im2col(x, kernel_h, kernel_w, stride, padding):
    """x: (N, C, H, W) -> columns (C*R*S, Ho*Wo*N), plus the output size."""
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    channel, rows, cols, out_h, out_w = window_indices(x.shape, kernel_h, kernel_w, stride, padding)
    columns = padded[:, channel, rows, cols]  # (N, C*R*S, Ho*Wo)
    return columns.transpose(1, 2, 0).reshape(channel.shape[0], -1), out_h, out_w


def col2im(columns, x_shape, kernel_h, kernel_w, stride, padding):
    """Adjoint of im2col: columns (C*R*S, Ho*Wo*N) -> (N, C, H, W), summing overlapping windows."""
    batch, channels, height, width = x_shape
    padded = np.zeros((batch, channels, height + 2 * padding, width + 2 * padding), columns.dtype)
    channel, rows, cols, _, _ = window_indices(x_shape, kernel_h, kernel_w, stride, padding)
    per_image = columns.reshape(channel.shape[0], -1, batch).transpose(2, 0, 1)
    np.add.at(padded, (slice(None), channel, rows, cols), per_image)
    return padded[:, :, padding:padding + height, padding:padding + width]


def conv_forward(x, w, b, stride, padding):
    """y: (N, K, Ho, Wo) and a cache for conv_backward."""
    out_channels, _, kernel_h, kernel_w = w.shape
    columns, out_h, out_w = im2col(x, kernel_h, kernel_w, stride, padding)
    y = w.reshape(out_channels, -1) @ columns + b[:, None]
    y = y.reshape(out_channels, out_h, out_w, x.shape[0]).transpose(3, 0, 1, 2)
    return y, (x.shape, w, columns, stride, padding)


def conv_backward(dy, cache):
    """(dx, dw, db) from dy: (N, K, Ho, Wo) and conv_forward's cache."""
    x_shape, w, columns, stride, padding = cache
    out_channels, _, kernel_h, kernel_w = w.shape
    db = dy.sum(axis=(0, 2, 3))
    dy_matrix = dy.transpose(1, 2, 3, 0).reshape(out_channels, -1)
    dw = (dy_matrix @ columns.T).reshape(w.shape)
    dx = col2im(w.reshape(out_channels, -1).T @ dy_matrix, x_shape, kernel_h, kernel_w, stride, padding)
    return dx, dw, db
