"""CPU kernels for Winograd's minimal filtering F(2x2, 3x3): a stride-1 3x3 convolution in 2.25x
fewer multiplications.

A 2x2 block of outputs of a 3x3 filter reads a 4x4 patch of the input. Winograd's algorithm (Lavin
and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016) computes that block as

    Y = A^T [(G g G^T) * (B^T d B)] A

with d the 4x4 patch, g the 3x3 filter, * the elementwise product and the small constant matrices
below: 16 multiplications instead of 36. Over many channels the elementwise products become 16
matrix products, one per position e of the 4x4 grid, ``M[e] = U[e] @ V[e]``: U[e] (K, C) the
transformed filters, V[e] (C, T) the transformed patches of T tiles. The BLAS does those; these
kernels do the transforms of the patches (B^T d B) and of the products back to outputs (A^T m A).

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

The transformed patches are laid out (C, 16, T) and the products (K, 16, T), the 16 positions
next to each other. Laid out (16, C, T), the 16 values a tile writes lie C*T elements apart, a
power of two on many layers, and all fell into the same few cache sets: the input transform took
18.7 ms instead of 2.7 on the 3x3 benchmark layer, measured. For the same reason T, the row
length, is padded to an odd number of cache lines.

Tiles: output tile (ti, tj) is outputs [2ti, 2ti + 2) x [2tj, 2tj + 2) and reads the padded input's
rows [2ti, 2ti + 4) and columns [2tj, 2tj + 4). Outputs past an odd Ho or Wo are computed and not
written. Tile (ti, tj) of image n is column ``(n * tiles_h + ti) * tiles_w + tj`` of V and M
(n counted from the block's first image).
"""
from numba import uint64

from .jit import cpu_kernel


def _input_tiles(x, first_image, images, pad_h, pad_w, tiles_h, tiles_w, padded, v):
    """v[c, e, t] = (B^T d B)[e // 4, e % 4] for the 4x4 patch d of tile t in channel c.

    x: (N, C, H, W), of which images [first_image, first_image + images) are read. padded: (2*tiles_h + 2,
    2*tiles_w + 2) scratch, zero outside the image (the caller zeroes it once; only the image's
    own region is written here). v: (C, 16, T) with T >= images * tiles_h * tiles_w, overwritten
    up to that many tiles.
    """
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    tiles = tiles_h * tiles_w
    for image in range(images):
        n = first_image + image
        for c in range(channels):
            for h in range(height):
                padded_row, image_row = padded[h + pad_h], x[n, c, h]
                for col in range(uint64(width)):
                    padded_row[uint64(pad_w) + col] = image_row[col]
            for ti in range(tiles_h):
                row0, row1, row2, row3 = padded[2 * ti], padded[2 * ti + 1], padded[2 * ti + 2], padded[2 * ti + 3]
                first_tile = uint64(image * tiles + ti * tiles_w)
                for tj in range(uint64(tiles_w)):
                    t = first_tile + tj
                    s = uint64(2) * tj
                    # B^T d: combinations of the patch's rows, column by column.
                    a0 = row0[s] - row2[s]
                    a1 = row0[s + uint64(1)] - row2[s + uint64(1)]
                    a2 = row0[s + uint64(2)] - row2[s + uint64(2)]
                    a3 = row0[s + uint64(3)] - row2[s + uint64(3)]
                    b0 = row1[s] + row2[s]
                    b1 = row1[s + uint64(1)] + row2[s + uint64(1)]
                    b2 = row1[s + uint64(2)] + row2[s + uint64(2)]
                    b3 = row1[s + uint64(3)] + row2[s + uint64(3)]
                    c0 = row2[s] - row1[s]
                    c1 = row2[s + uint64(1)] - row1[s + uint64(1)]
                    c2 = row2[s + uint64(2)] - row1[s + uint64(2)]
                    c3 = row2[s + uint64(3)] - row1[s + uint64(3)]
                    d0 = row1[s] - row3[s]
                    d1 = row1[s + uint64(1)] - row3[s + uint64(1)]
                    d2 = row1[s + uint64(2)] - row3[s + uint64(2)]
                    d3 = row1[s + uint64(3)] - row3[s + uint64(3)]
                    # ... then times B: the same combinations of each row's four columns.
                    v[c, 0, t], v[c, 1, t], v[c, 2, t], v[c, 3, t] = a0 - a2, a1 + a2, a2 - a1, a1 - a3
                    v[c, 4, t], v[c, 5, t], v[c, 6, t], v[c, 7, t] = b0 - b2, b1 + b2, b2 - b1, b1 - b3
                    v[c, 8, t], v[c, 9, t], v[c, 10, t], v[c, 11, t] = c0 - c2, c1 + c2, c2 - c1, c1 - c3
                    v[c, 12, t], v[c, 13, t], v[c, 14, t], v[c, 15, t] = d0 - d2, d1 + d2, d2 - d1, d1 - d3


def _output_tiles(m, b, first_image, images, tiles_h, tiles_w, y):
    """y[n, k, 2ti + a, 2tj + j] = b[k] + (A^T m A)[a, j], m[e // 4, e % 4] = m[k, e, t] of tile t.

    m: (K, 16, T) products, T >= images * tiles_h * tiles_w; b: (K,) biases; y: (N, K, Ho, Wo),
    images [first_image, first_image + images) overwritten (outputs past Ho or Wo are dropped).
    """
    out_channels, out_h, out_w = y.shape[1], y.shape[2], y.shape[3]
    tiles = tiles_h * tiles_w
    full_w = out_w // 2  # tiles whose two columns both lie inside the output
    for image in range(images):
        n = first_image + image
        for k in range(out_channels):
            bias = b[k]
            for ti in range(tiles_h):
                first_tile = uint64(image * tiles + ti * tiles_w)
                top, bottom = y[n, k, 2 * ti], y[n, k, min(2 * ti + 1, out_h - 1)]
                for tj in range(uint64(tiles_w)):
                    t = first_tile + tj
                    # A^T m: the sum of rows 0-2 and rows 1 - 2 - 3, column by column ...
                    s0 = m[k, 0, t] + m[k, 4, t] + m[k, 8, t]
                    s1 = m[k, 1, t] + m[k, 5, t] + m[k, 9, t]
                    s2 = m[k, 2, t] + m[k, 6, t] + m[k, 10, t]
                    s3 = m[k, 3, t] + m[k, 7, t] + m[k, 11, t]
                    r0 = m[k, 4, t] - m[k, 8, t] - m[k, 12, t]
                    r1 = m[k, 5, t] - m[k, 9, t] - m[k, 13, t]
                    r2 = m[k, 6, t] - m[k, 10, t] - m[k, 14, t]
                    r3 = m[k, 7, t] - m[k, 11, t] - m[k, 15, t]
                    # ... then times A. An odd last row writes its bottom half onto the top half,
                    # which the top half then overwrites with its own value.
                    j = uint64(2) * tj
                    bottom[j] = r0 + r1 + r2 + bias
                    top[j] = s0 + s1 + s2 + bias
                    if tj < full_w:
                        bottom[j + uint64(1)] = r1 - r2 - r3 + bias
                        top[j + uint64(1)] = s1 - s2 - s3 + bias


input_tiles = cpu_kernel(_input_tiles)
output_tiles = cpu_kernel(_output_tiles)
