"""Compile every CPU kernel (and CUDA kernel where a GPU is usable) for both float dtypes.

Numba compiles while holding the GIL, so threads cannot share the work; processes can. The kernels
fall into two groups of about equal compile time whose functions live in different modules, so
the two groups write different files of Numba's cache and can compile side by side:
``compile_all_kernels(in_child_processes=True)`` (what ``nutshell warm`` runs on a machine with
more than one core) starts one Python process per group and waits for them.
"""
import os
import subprocess
import sys

import numpy as np

from .ops.conv import DIRECT_MAX_FILTERS, WINOGRAD_MIN_CHANNELS, conv2d, conv2d_backward
from .ops.device import cuda_status, is_simulator
from .ops.elementwise import relu, relu_backward
from .ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward


def _devices() -> list:
    real_gpu = cuda_status()[0] and not is_simulator()  # the simulator compiles nothing worth warming
    return ["cpu"] + (["cuda"] if real_gpu else [])


def _images(dtype):
    return np.ones((1, 2, 6, 6), dtype)


def _compile_convolutions() -> None:
    for device in _devices():
        for dtype in (np.float32, np.float64):
            x = _images(dtype)
            for filters in (DIRECT_MAX_FILTERS, DIRECT_MAX_FILTERS + 1):  # the direct (float32) and the im2col kernels
                w = np.ones((filters, 2, 3, 3), dtype)
                y = conv2d(x, w, np.zeros(filters, dtype), padding=1, device=device)
                conv2d_backward(y, x, w, padding=1, device=device)


def _compile_winograd_pooling_and_activations() -> None:
    # Winograd's kernels (CPU, float32 only) compile in this group: the other group's convolution
    # kernels take longer already.
    x = np.ones((1, WINOGRAD_MIN_CHANNELS, 6, 6), np.float32)
    conv2d(x, np.ones((DIRECT_MAX_FILTERS + 1, WINOGRAD_MIN_CHANNELS, 3, 3), np.float32), padding=1, device="cpu")
    for device in _devices():
        for dtype in (np.float32, np.float64):
            x = _images(dtype)
            if device == "cpu":
                relu_backward(relu(x), x)
            for forward, backward in ((max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)):
                for stride in (2, 1):  # tiling and overlapping windows: max pooling has a CPU kernel for each
                    pooled = forward(x, 2, stride=stride, device=device)
                    backward(pooled, x, 2, stride=stride, device=device)


KERNEL_GROUPS = {"convolutions": _compile_convolutions,
                 "winograd-pooling-and-activations": _compile_winograd_pooling_and_activations}


def several_cores() -> bool:
    """Whether this machine has more than one core: then child processes compile the groups faster."""
    return (os.cpu_count() or 1) > 1


def compile_all_kernels(in_child_processes: bool = False) -> None:
    """Compile (or load from Numba's cache) every kernel the ops use.

    in_child_processes: False compiles everything in this process; True compiles each of
    KERNEL_GROUPS in a child process of its own, all at the same time (this process then holds none
    of them in memory, but finds them all in the cache). A child that fails raises RuntimeError
    with its error output.
    """
    if not in_child_processes:
        for compile_group in KERNEL_GROUPS.values():
            compile_group()
        return
    # The children must import this very copy of the package, whatever their working folder holds.
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    search_path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    children = {group: subprocess.Popen([sys.executable, "-m", __name__, group],
                                        env=dict(os.environ, PYTHONPATH=search_path),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                for group in KERNEL_GROUPS}
    failures = []
    for group, child in children.items():
        _, errors = child.communicate()
        if child.returncode != 0:
            failures.append(f"compiling the {group} kernels failed (exit status {child.returncode}):\n{errors}")
    if failures:
        raise RuntimeError("\n".join(failures))


if __name__ == "__main__":
    KERNEL_GROUPS[sys.argv[1]]()
