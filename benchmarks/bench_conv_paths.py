"""Time each CPU path of conv2d (direct kernels, Winograd, im2col and the BLAS) on the same layers:
the measurements behind DIRECT_MAX_FILTERS and WINOGRAD_MIN_CHANNELS in ``nutshell_lib.ops.conv``.

Run: ``python -m benchmarks.bench_conv_paths``. Each layer's paths are timed in turn, forward and
backward apart, in several rounds; the table gives the medians over the rounds and each path's
time as a multiple of im2col's. Winograd runs the forward pass only (its backward is im2col's).
"""
from __future__ import annotations

import statistics
import time

import numba
import numpy as np

from nutshell_lib.ops import conv as conv_module
from nutshell_lib.ops.conv import conv2d, conv2d_backward

# (x shape, w shape, padding): the filter counts around DIRECT_MAX_FILTERS, the channel counts
# around WINOGRAD_MIN_CHANNELS, images from 4x4 to 32x32.
LAYERS = [
    ((64, 6, 14, 14), (16, 6, 5, 5), 0),
    ((64, 6, 14, 14), (24, 6, 5, 5), 0),
    ((64, 6, 14, 14), (32, 6, 5, 5), 0),
    ((32, 3, 32, 32), (16, 3, 3, 3), 1),
    ((32, 16, 16, 16), (16, 16, 3, 3), 1),
    ((32, 3, 32, 32), (16, 3, 5, 5), 2),
    ((32, 3, 32, 32), (12, 3, 7, 7), 3),
    ((64, 1, 28, 28), (32, 1, 3, 3), 1),
    ((32, 3, 32, 32), (32, 3, 3, 3), 1),
    ((32, 8, 16, 16), (32, 8, 3, 3), 1),
    ((32, 16, 16, 16), (32, 16, 3, 3), 1),
    ((64, 32, 8, 8), (64, 32, 3, 3), 1),
    ((64, 64, 4, 4), (64, 64, 3, 3), 1),
    ((32, 32, 32, 32), (64, 32, 3, 3), 1),
    ((16, 96, 28, 28), (128, 96, 3, 3), 1),
]

# path -> (DIRECT_MAX_FILTERS, WINOGRAD_MIN_CHANNELS) that force it on a layer it can take
PATHS = {"direct": (10**9, 10**9), "Winograd": (0, 0), "im2col": (0, 10**9)}
MIN_SECONDS = 0.2


def median_ms(run, repeats=5) -> float:
    """Median milliseconds of one call of ``run``: at least ``repeats`` calls and MIN_SECONDS."""
    run()
    times = []
    while len(times) < repeats or sum(times) < MIN_SECONDS:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def possible_paths(w_shape) -> list:
    """The paths that can take a stride-1 float32 layer with filters of w_shape."""
    return ["direct"] + (["Winograd"] if w_shape[2:] == (3, 3) else []) + ["im2col"]


def main(rounds: int = 3) -> None:
    print(f"conv2d paths, float32, stride 1, {numba.get_num_threads()} threads: forward ms / backward ms, "
          f"median of {rounds} rounds; (x) = forward + backward time / im2col's")
    print("| x * w, pad | direct | Winograd (forward) | im2col |")
    print("|---|---|---|---|")
    rng = np.random.default_rng(0)
    defaults = conv_module.DIRECT_MAX_FILTERS, conv_module.WINOGRAD_MIN_CHANNELS
    try:
        for x_shape, w_shape, padding in LAYERS:
            x = rng.standard_normal(x_shape).astype(np.float32)
            w = rng.standard_normal(w_shape).astype(np.float32)
            b = np.zeros(w_shape[0], np.float32)
            dy = rng.standard_normal(conv2d(x, w, b, padding=padding, device="cpu").shape).astype(np.float32)
            paths = possible_paths(w_shape)
            times = {path: ([], []) for path in paths}
            for _ in range(rounds):
                for path in paths:
                    conv_module.DIRECT_MAX_FILTERS, conv_module.WINOGRAD_MIN_CHANNELS = PATHS[path]
                    forward, backward = times[path]
                    forward.append(median_ms(lambda: conv2d(x, w, b, padding=padding, device="cpu")))
                    backward.append(median_ms(lambda: conv2d_backward(dy, x, w, padding=padding, device="cpu")))
            total = {path: statistics.median(f) + statistics.median(bw) for path, (f, bw) in times.items()}

            def cell(path):
                if path not in times:
                    return "-"
                forward, backward = times[path]
                return (f"{statistics.median(forward):.2f} / {statistics.median(backward):.2f} "
                        f"({total[path] / total['im2col']:.2f}x)")

            print(f"| {x_shape} * {w_shape}, {padding} | {cell('direct')} | {cell('Winograd')} | {cell('im2col')} |")
    finally:
        conv_module.DIRECT_MAX_FILTERS, conv_module.WINOGRAD_MIN_CHANNELS = defaults


if __name__ == "__main__":
    main()
