"""The one tiled matrix product on the GPU, for the dense layer and the convolution alike.

Numba's CUDA target has no BLAS. The product c = A @ B runs one (TILE, TILE) block of threads per
TILE x TILE tile of c; the block walks along the inner dimension one TILE-wide strip at a time,
each thread loading one element of A's strip and one of B's into shared memory, so every element
read from global memory serves TILE multiply-adds instead of one. Threads past an edge load
zeros, which is how shapes that are no multiple of TILE come out right.

A and B need not exist as matrices: ``load_a(a, i, k, geometry)`` and ``load_b(b, k, j, geometry)``
are device functions that return element (i, k) of A and (k, j) of B read from the arrays a and b,
and ``store(c, i, j, value, geometry)`` writes element (i, j). For the dense layer they index a
matrix or its transpose in place; for the convolution they gather the im2col columns straight from
the images (an implicit GEMM), so no column matrix is ever built. ``geometry`` is a tuple of ints
the accessors share (the convolution's sizes, strides and padding).

Launch with ``cuda_launch.launch_tiles(kernel, rows, cols, TILE, a, b, c, rows, inner, cols, geometry)``.
"""
import functools

from numba import cuda, float32, float64

TILE = 16
ELEMENT_TYPES = {"float32": float32, "float64": float64}


# The accessors of plain matrices, which the dense layer uses for all three operands and the
# convolution for its filter matrix and weight gradient.

@cuda.jit(device=True)
def element(matrix, i, j, geometry):
    return matrix[i, j]


@cuda.jit(device=True)
def transposed_element(matrix, i, j, geometry):
    return matrix[j, i]


@cuda.jit(device=True)
def store_element(matrix, i, j, value, geometry):
    matrix[i, j] = value


@functools.cache
def tiled_product(load_a, load_b, store, dtype_name: str):
    """The kernel c = A @ B (A: (rows, inner), B: (inner, cols)) through the accessors, for arrays of
    dtype ``dtype_name``. Shared memory needs its type when the kernel is compiled, and the
    accessors are constants of the kernel, hence one kernel per combination (compiled on first use)."""
    element_type = ELEMENT_TYPES[dtype_name]

    @cuda.jit
    def product(a, b, c, rows, inner, cols, geometry):
        """Thread (tx, ty) of block (bx, by) computes element (by*TILE + ty, bx*TILE + tx): x runs
        along c's columns, so neighbouring threads touch neighbouring addresses."""
        a_strip = cuda.shared.array((TILE, TILE), element_type)
        b_strip = cuda.shared.array((TILE, TILE), element_type)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        total = element_type(0)
        for start in range(0, inner, TILE):
            if row < rows and start + tx < inner:
                a_strip[ty, tx] = load_a(a, row, start + tx, geometry)
            else:
                a_strip[ty, tx] = 0
            if start + ty < inner and col < cols:
                b_strip[ty, tx] = load_b(b, start + ty, col, geometry)
            else:
                b_strip[ty, tx] = 0
            cuda.syncthreads()  # the strips are loaded before anyone reads them
            for k in range(TILE):
                total += a_strip[ty, k] * b_strip[k, tx]
            cuda.syncthreads()  # and read by everyone before the next strip overwrites them
        if row < rows and col < cols:
            store(c, row, col, total, geometry)

    return product
