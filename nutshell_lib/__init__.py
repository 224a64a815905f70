"""Deep Learning in a Nutshell: the course kit's library.

Functional ops (NCHW arrays, float32 or float64)::

    conv2d(x, w, b=None, *, stride=1, padding=0, device="auto") -> y
    conv2d_backward(dy, x, w, *, stride=1, padding=0, device="auto") -> (dx, dw, db)
    max_pool2d(x, size, *, stride=None, device="auto") -> y
    max_pool2d_backward(dy, x, size, *, stride=None, device="auto") -> dx
    avg_pool2d(x, size, *, stride=None, device="auto") -> y
    avg_pool2d_backward(dy, x, size, *, stride=None, device="auto") -> dx
    linear(x, w, b, *, device="auto") -> y                    # y = x @ w + b, x (N, D), w (D, M)
    linear_backward(dy, x, w, *, device="auto") -> (dx, dw, db)

An op runs where its data is: device arrays (``numba.cuda.to_device(x)``) in, device arrays out;
NumPy arrays stay on the CPU unless ``device="cuda"`` (see docs/gpu.md).
"""
from importlib.metadata import PackageNotFoundError, version

from .ops.conv import conv2d, conv2d_backward
from .ops.linear import linear, linear_backward
from .ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

try:
    __version__ = version("nutshell-lib")
except PackageNotFoundError:  # run from a source folder on PYTHONPATH, not installed
    __version__ = "unknown"

__all__ = [
    "conv2d",
    "conv2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "linear",
    "linear_backward",
]
