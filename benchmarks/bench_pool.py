"""Max and average pooling, 2x2 windows with stride 2, on a (64, 16, 28, 28) float32 batch (CPU).

Compares nutshell_lib with a NumPy implementation that pools through a reshape, and with PyTorch
when it is importable (PyTorch is not a dependency of the kit). PyTorch gets Numba's thread count.
Times are medians of repeated runs after warm-up, in milliseconds.
"""
from __future__ import annotations

import statistics
import time

import numba
import numpy as np

from nutshell_lib.ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

SHAPE = (64, 16, 28, 28)
WARMUP, REPEATS = 3, 25


def milliseconds(forward, backward) -> tuple[float, float, float]:
    """Median forward, median backward and fastest forward+backward time, in ms."""
    for _ in range(WARMUP):
        forward()
        backward()
    forward_times, backward_times = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        forward()
        middle = time.perf_counter()
        backward()
        forward_times.append(middle - start)
        backward_times.append(time.perf_counter() - middle)
    fastest = min(f + b for f, b in zip(forward_times, backward_times))
    return 1e3 * statistics.median(forward_times), 1e3 * statistics.median(backward_times), 1e3 * fastest


def windows_last(x):
    """(N, C, H, W) -> (N, C, H/2, W/2, 4): each 2x2 window's elements, row-major, on the last axis."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)


def windows_back(windows):
    """Inverse of ``windows_last``."""
    n, c, ho, wo, _ = windows.shape
    return windows.reshape(n, c, ho, wo, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * ho, 2 * wo)


def numpy_max_backward(dy, x):
    windows = windows_last(x)
    first_max = windows.argmax(axis=-1)[..., None]
    dwindows = np.zeros_like(windows)
    np.put_along_axis(dwindows, first_max, dy[..., None], axis=-1)
    return windows_back(dwindows)


def numpy_avg_backward(dy, x):
    return windows_back(np.broadcast_to((dy / 4)[..., None], dy.shape + (4,)))


def implementations(x, dy):
    """{(pool, implementation): (forward, backward)}, each a function of no arguments."""
    table = {
        ("max", "nutshell_lib"): (lambda: max_pool2d(x, 2, device="cpu"),
                                  lambda: max_pool2d_backward(dy, x, 2, device="cpu")),
        ("max", "NumPy reshape"): (lambda: windows_last(x).max(axis=-1), lambda: numpy_max_backward(dy, x)),
        ("avg", "nutshell_lib"): (lambda: avg_pool2d(x, 2, device="cpu"),
                                  lambda: avg_pool2d_backward(dy, x, 2, device="cpu")),
        ("avg", "NumPy reshape"): (lambda: windows_last(x).mean(axis=-1), lambda: numpy_avg_backward(dy, x)),
    }
    try:
        import torch
    except ImportError:
        return table
    torch.set_num_threads(numba.get_num_threads())
    aten = torch.ops.aten
    xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)
    _, indices = aten.max_pool2d_with_indices(xt, [2, 2], [2, 2])
    # Training runs the forward that also returns the arg-max indices; the backward reuses them.
    table[("max", "PyTorch")] = (
        lambda: aten.max_pool2d_with_indices(xt, [2, 2], [2, 2]),
        lambda: aten.max_pool2d_with_indices_backward(dyt, xt, [2, 2], [2, 2], [0, 0], [1, 1], False, indices),
    )
    table[("avg", "PyTorch")] = (
        lambda: aten.avg_pool2d(xt, [2, 2], [2, 2]),
        lambda: aten.avg_pool2d_backward(dyt, xt, [2, 2], [2, 2], [0, 0], False, True, None),
    )
    return table


def check_agreement(x, dy):
    np.testing.assert_array_equal(max_pool2d(x, 2, device="cpu"), windows_last(x).max(axis=-1))
    np.testing.assert_array_equal(max_pool2d_backward(dy, x, 2, device="cpu"), numpy_max_backward(dy, x))
    np.testing.assert_allclose(avg_pool2d(x, 2, device="cpu"), windows_last(x).mean(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(avg_pool2d_backward(dy, x, 2, device="cpu"), numpy_avg_backward(dy, x), rtol=1e-6)


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    dy = rng.standard_normal((SHAPE[0], SHAPE[1], SHAPE[2] // 2, SHAPE[3] // 2)).astype(np.float32)
    check_agreement(x, dy)
    rows = {key: milliseconds(forward, backward) for key, (forward, backward) in implementations(x, dy).items()}
    print(f"Pooling 2x2, stride 2, x {SHAPE} float32, CPU, {numba.get_num_threads()} threads; "
          f"ms, median of {REPEATS} runs after {WARMUP} warm-up runs (fastest run in the last column)")
    print("| pool | implementation | forward | backward | forward+backward | time / nutshell_lib | fastest f+b |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (pool, name), (forward, backward, fastest) in rows.items():
        ours = sum(rows[(pool, "nutshell_lib")][:2])
        total = forward + backward
        print(f"| {pool} | {name} | {forward:.2f} | {backward:.2f} | {total:.2f} | {total / ours:.2f} | {fastest:.2f} |")
    if ("max", "PyTorch") not in rows:
        print("(PyTorch is not installed: its rows are skipped.)")


if __name__ == "__main__":
    main()
