"""Max-pool backward, 2x2 windows with stride 2, on LeNet-5's two pooled shapes (CPU, one thread).

Side by side in one run: the general kernel (which any stride takes, and which stride == size
took before the tiled kernel), the tiled kernel that ``max_pool2d_backward`` now picks for
stride == size, and PyTorch's ``max_pool2d_with_indices_backward`` when PyTorch is importable.
Each call is timed in CPU time of the calling thread (``time.thread_time``), which a shared,
noisy machine disturbs least; the suite holds Numba (and PyTorch) to one thread while it runs, so
the kernels stay on that thread.
"""
from __future__ import annotations

import statistics
import time

import numba
import numpy as np

from nutshell_lib.kernels import cpu_pool
from nutshell_lib.ops.pool import _run_cpu, max_pool2d_backward

SHAPES = [(64, 6, 28, 28), (64, 16, 10, 10)]
WARMUP, ROUNDS = 10, 300


def implementations(x, dy):
    """{name: backward of no arguments}, each returning dx."""
    window = (2, 2, 2, 2)
    table = {
        "general kernel (before)": lambda: _run_cpu(cpu_pool.max_pool_backward, (dy, x), x.shape, x.dtype, window),
        "tiled kernel (now)": lambda: max_pool2d_backward(dy, x, 2, device="cpu"),
    }
    try:
        import torch
    except ImportError:
        return table
    aten = torch.ops.aten
    xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)
    _, indices = aten.max_pool2d_with_indices(xt, [2, 2], [2, 2])
    table["PyTorch (indices stored by the forward)"] = lambda: aten.max_pool2d_with_indices_backward(
        dyt, xt, [2, 2], [2, 2], [0, 0], [1, 1], False, indices)
    return table


def main() -> None:
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        import torch
    except ImportError:
        torch = None
    torch_threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)
    try:
        measure()
    finally:
        numba.set_num_threads(threads)
        if torch:
            torch.set_num_threads(torch_threads)


def measure() -> None:
    rng = np.random.default_rng(0)
    print(f"Max-pool backward 2x2, stride 2, float32, CPU time of one thread in ms, median of {ROUNDS} "
          f"rounds (the implementations alternate within a round)")
    print("| x shape | " + " | ".join(implementations(np.zeros((1, 1, 2, 2), np.float32),
                                                      np.zeros((1, 1, 1, 1), np.float32))) + " | before / now |")
    for shape in SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        dy = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(np.float32)
        table = implementations(x, dy)
        results = [np.asarray(backward()) for backward in table.values()]
        for result in results[1:]:
            np.testing.assert_array_equal(result, results[0])
        times = {name: [] for name in table}
        for _ in range(WARMUP):
            for backward in table.values():
                backward()
        for _ in range(ROUNDS):
            for name, backward in table.items():
                start = time.thread_time()
                backward()
                times[name].append(time.thread_time() - start)
        medians = [1e3 * statistics.median(seconds) for seconds in times.values()]
        print(f"| {shape} | " + " | ".join(f"{ms:.3f}" for ms in medians) + f" | {medians[0] / medians[1]:.2f}x |")


if __name__ == "__main__":
    main()
