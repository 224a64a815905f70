"""CUDA kernels for the fully connected map: the matrix products (through ``cuda_tiled``), the
bias and its gradient.

A transposed operand is read in place (``dy @ w.T`` reads w as stored), because a transposed view
of a device array would cost a copy. Launch the products as ``cuda_tiled`` says (geometry is
unused here: pass ``NO_GEOMETRY``), the others with ``cuda_launch.launch``.
"""
from numba import cuda

from .cuda_tiled import element, store_element, tiled_product, transposed_element

NO_GEOMETRY = (0,)


def matmul_kernel(dtype_name: str, a_transposed: bool, b_transposed: bool):
    """The kernel c = op(a) @ op(b), op(a) being a.T when ``a_transposed`` (likewise b)."""
    return tiled_product(transposed_element if a_transposed else element,
                         transposed_element if b_transposed else element, store_element, dtype_name)


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
