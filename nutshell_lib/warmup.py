"""Compile every CPU kernel (and CUDA kernel where a GPU is usable) for both float dtypes."""
import numpy as np

from .ops.conv import DIRECT_MAX_FILTERS, conv2d, conv2d_backward
from .ops.device import cuda_status, is_simulator
from .ops.elementwise import relu, relu_backward
from .ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward


def compile_all_kernels() -> None:
    real_gpu = cuda_status()[0] and not is_simulator()  # the simulator compiles nothing worth warming
    devices = ["cpu"] + (["cuda"] if real_gpu else [])
    for device in devices:
        for dtype in (np.float32, np.float64):
            x = np.ones((1, 2, 6, 6), dtype)
            for filters in (DIRECT_MAX_FILTERS, DIRECT_MAX_FILTERS + 1):  # the direct (float32) and the im2col kernels
                w = np.ones((filters, 2, 3, 3), dtype)
                y = conv2d(x, w, np.zeros(filters, dtype), padding=1, device=device)
                conv2d_backward(y, x, w, padding=1, device=device)
            if device == "cpu":
                relu_backward(relu(x), x)
            for forward, backward in ((max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)):
                for stride in (2, 1):  # tiling and overlapping windows: max pooling has a CPU kernel for each
                    pooled = forward(x, 2, stride=stride, device=device)
                    backward(pooled, x, 2, stride=stride, device=device)
