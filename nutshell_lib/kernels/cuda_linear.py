"""CUDA kernels for the fully connected map: a tiled matrix product, the bias, its gradient.

Numba's CUDA target has no BLAS. The product runs one (TILE, TILE) block of threads per TILE x TILE
tile of the output; the block walks along the inner dimension one TILE-wide strip at a time, each
thread loading one element of each operand's strip into shared memory, so every element read from
global memory serves TILE multiply-adds instead of one. Threads past an edge load zeros, which
is how shapes that are no multiple of TILE come out right.

A transposed operand is read in place (``dy @ w.T`` reads w as stored): ``matmul_kernel`` compiles
one kernel per dtype and choice of transposes, because shared memory needs a type known when the
kernel is compiled and because a transposed view of a device array would cost a copy. Launch the
product with ``cuda_launch.launch_tiles(kernel, rows, cols, TILE, a, b, c)``, the others with
``cuda_launch.launch``.
"""
import functools

from numba import cuda, float32, float64

TILE = 16


@functools.cache
def matmul_kernel(dtype_name: str, a_transposed: bool, b_transposed: bool):
    """The kernel c = op(a) @ op(b) for arrays of dtype ``dtype_name`` ("float32" or "float64"),
    where op(a) is a.T when ``a_transposed`` (likewise b). Each choice is a constant of its kernel,
    so the compiled code has no branch on it."""
    element_type = {"float32": float32, "float64": float64}[dtype_name]

    @cuda.jit
    def matmul(a, b, c):
        """c[i, j] = sum over k of op(a)[i, k] * op(b)[k, j]. op(a): (n, d); op(b): (d, m); c: (n, m).

        Thread (tx, ty) of block (bx, by) computes c[by*TILE + ty, bx*TILE + tx]: x runs along c's
        rows, so neighbouring threads touch neighbouring addresses.
        """
        a_strip = cuda.shared.array((TILE, TILE), element_type)
        b_strip = cuda.shared.array((TILE, TILE), element_type)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        rows, cols = c.shape[0], c.shape[1]
        inner = a.shape[0] if a_transposed else a.shape[1]
        total = c.dtype.type(0)
        for start in range(0, inner, TILE):
            if row < rows and start + tx < inner:
                a_strip[ty, tx] = a[start + tx, row] if a_transposed else a[row, start + tx]
            else:
                a_strip[ty, tx] = 0
            if start + ty < inner and col < cols:
                b_strip[ty, tx] = b[col, start + ty] if b_transposed else b[start + ty, col]
            else:
                b_strip[ty, tx] = 0
            cuda.syncthreads()  # the strips are loaded before anyone reads them
            for k in range(TILE):
                total += a_strip[ty, k] * b_strip[k, tx]
            cuda.syncthreads()  # and read by everyone before the next strip overwrites them
        if row < rows and col < cols:
            c[row, col] = total

    return matmul


@cuda.jit
def add_row_vector(y, b):
    """y[i, j] += b[j]. y: (n, m); b: (m,). One thread per element of y."""
    index = cuda.grid(1)
    if index < y.size:
        i, j = index // y.shape[1], index % y.shape[1]
        y[i, j] += b[j]


@cuda.jit
def column_sums(y, sums):
    """sums[j] = sum over i of y[i, j], added in row order. y: (n, m); sums: (m,). One thread per column."""
    j = cuda.grid(1)
    if j < sums.size:
        total = sums.dtype.type(0)
        for i in range(y.shape[0]):
            total += y[i, j]
        sums[j] = total
