"""Stride-1 3x3 convolutions by Winograd's F(2x2, 3x3), for ``conv``: 16 matrix products over
transformed tiles instead of one over im2col's columns, with 2.25x fewer multiply-adds.

The kernels (``nutshell_lib.kernels.cpu_winograd``) transform the input's 4x4 patches and the
products back to 2x2 output tiles; the filters' transform is a few NumPy operations per call.
"""
from __future__ import annotations

import numpy as np

from ..kernels.cpu_winograd import input_tiles, output_tiles
from .threads import COLUMN_CHUNK_ELEMENTS


def transformed_filters(w):
    """U (16, K, C): U[4*a + b, k, c] = (G w[k, c] G^T)[a, b] for w (K, C, 3, 3), in w's dtype, with
    G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]."""
    def g_times(rows):  # G @ rows, rows a sequence of three equal-shaped arrays
        middle, outer = rows[1] / 2, (rows[0] + rows[2]) / 2
        return rows[0], outer + middle, outer - middle, rows[2]

    u = np.empty((4, 4, *w.shape[:2]), w.dtype)
    for a, left in enumerate(g_times(w.transpose(2, 3, 0, 1))):  # left = (G w)[a], (S, K, C)
        u[a] = g_times(left)
    return u.reshape(16, *w.shape[:2])


def tile_counts(out_shape):
    """(tiles_h, tiles_w): 2x2 tiles that cover the (N, K, Ho, Wo) output."""
    return (out_shape[2] + 1) // 2, (out_shape[3] + 1) // 2


def _row_length(tiles):
    """At least ``tiles``, and an odd number of 16-element cache lines (see cpu_winograd)."""
    return (-(-tiles // 16) | 1) * 16


def convolve_images(first_image, last_image, x, u, b, padding, y):
    """y[first_image:last_image] = the stride-1 3x3 convolution of those images of x (N, C, H, W)
    with the filters whose transform is u (16, K, C), plus b (K,), padded by ``padding`` (ph, pw);
    y (N, K, Ho, Wo). A few images at a time, so that their transformed tiles and products (16 per
    tile and channel) each fit in COLUMN_CHUNK_ELEMENTS and stay in the cache. One thread's share of
    a batch: the BLAS products run on the calling thread."""
    tiles_h, tiles_w = tile_counts(y.shape)
    chunk_images = max(1, COLUMN_CHUNK_ELEMENTS // (16 * max(u.shape[1:]) * tiles_h * tiles_w))
    padded = np.zeros((2 * tiles_h + 2, 2 * tiles_w + 2), x.dtype)
    row = _row_length(min(chunk_images, last_image - first_image) * tiles_h * tiles_w)
    v = np.empty((x.shape[1], 16, row), x.dtype)
    m = np.empty((u.shape[1], 16, row), x.dtype)
    for start in range(first_image, last_image, chunk_images):
        images = min(chunk_images, last_image - start)
        tiles = images * tiles_h * tiles_w
        input_tiles(x, start, images, *padding, tiles_h, tiles_w, padded, v)
        # 16 products (K, C) @ (C, tiles), on views with the 16 positions first.
        np.matmul(u, v.transpose(1, 0, 2)[:, :, :tiles], out=m.transpose(1, 0, 2)[:, :, :tiles])
        output_tiles(m, b, start, images, tiles_h, tiles_w, y)
