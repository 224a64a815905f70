"""Time conv2d forward+backward against a NumPy im2col peer, naive loops and (if installed) PyTorch.

Run: ``python -m benchmarks.bench_conv``, on an idle machine. Each library is timed on the same
arrays, its repeats back to back after a pause, and the median is reported. PyTorch, if
importable, uses as many threads as Numba, and is timed in ROUNDS rounds, each right next to
nutshell_lib: the ratio quoted for a shape is the median of the rounds' ratios.

On a shared, busy machine wall-clock times of multi-threaded code mostly measure waiting for the
other threads to be scheduled. For numbers that do not depend on the load, run single-threaded and
count the CPU time of the one thread doing the work::

    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m benchmarks.bench_conv --cpu-time
"""
from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np

from benchmarks import im2col_numpy
from nutshell_lib.ops.conv import conv2d, conv2d_backward

# (name, x shape, w shape, stride, padding)
SHAPES = [
    ("LeNet conv1", (64, 1, 32, 32), (6, 1, 5, 5), 1, 0),
    ("LeNet conv2", (64, 6, 14, 14), (16, 6, 5, 5), 1, 0),
    ("3x3 pad 1", (32, 32, 32, 32), (64, 32, 3, 3), 1, 1),
    ("inception 1x1", (16, 192, 28, 28), (64, 192, 1, 1), 1, 0),
    ("inception 3x3", (16, 96, 28, 28), (128, 96, 3, 3), 1, 1),
]
NAIVE_SHAPES = {"LeNet conv2"}  # the naive loops take seconds even on the smallest shape


def naive_forward_backward(x, w, b, dy, stride, padding):
    """Loops over every output element (each a NumPy sum over one window), forward then backward."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    _, _, kernel_h, kernel_w = w.shape
    batch, out_channels, out_h, out_w = dy.shape
    y = np.empty(dy.shape, x.dtype)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(batch):
        for k in range(out_channels):
            for i in range(out_h):
                for j in range(out_w):
                    window = (n, slice(None), slice(i * stride, i * stride + kernel_h), slice(j * stride, j * stride + kernel_w))
                    y[n, k, i, j] = np.sum(xp[window] * w[k]) + b[k]
                    dxp[window] += dy[n, k, i, j] * w[k]
                    dw[k] += dy[n, k, i, j] * xp[window]
    return y, dxp, dw, dy.sum(axis=(0, 2, 3))


def peers(x, w, b, dy, stride, padding, name):
    """name -> zero-argument function that runs forward and backward once."""
    def nutshell():
        conv2d(x, w, b, stride=stride, padding=padding, device="cpu")
        conv2d_backward(dy, x, w, stride=stride, padding=padding, device="cpu")

    def numpy_im2col():
        _, cache = im2col_numpy.conv_forward(x, w, b, stride, padding)
        im2col_numpy.conv_backward(dy, cache)

    runs = {"nutshell_lib": nutshell, "NumPy im2col": numpy_im2col}
    if name in NAIVE_SHAPES:
        runs["naive loops"] = lambda: naive_forward_backward(x, w, b, dy, stride, padding)
    try:
        import torch
    except ImportError:
        return runs
    torch.set_num_threads(numba.get_num_threads())
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dyt = torch.tensor(dy)

    def pytorch():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(dyt)

    runs["PyTorch CPU"] = pytorch
    return runs


# OpenBLAS's and OpenMP's idle threads spin for up to ~0.1 s after a call before they sleep; a
# pause between libraries keeps one library's spinning threads from slowing the next one down.
SETTLE_SECONDS = 0.3
MIN_SECONDS = 0.5
ROUNDS = 7


def measure(runs, repeats, clock=time.perf_counter, warmup=2):
    """Median seconds per run for each entry, in the order given: each entry's runs back to back,
    after a pause, at least ``repeats`` of them and at least MIN_SECONDS in all."""
    seconds = {}
    for name, run in runs.items():
        if name == "naive loops":  # seconds per run already: once is enough
            start = clock()
            run()
            seconds[name] = clock() - start
            continue
        time.sleep(SETTLE_SECONDS)
        for _ in range(warmup):
            run()
        times = []
        while len(times) < repeats or sum(times) < MIN_SECONDS:  # small shapes get more runs
            start = clock()
            run()
            times.append(clock() - start)
        seconds[name] = statistics.median(times)
    return seconds


def measure_rounds(runs, repeats, clock, rounds):
    """nutshell_lib and PyTorch ``rounds`` times, the other peers once (with the first round):
    the median seconds per entry over its rounds, and each round's nutshell_lib / PyTorch ratio.

    The machine's speed drifts from second to second, so a ratio is only fair between runs taken
    close together: in every round PyTorch runs right next to nutshell_lib, and first in every
    other round, so that neither always inherits the other's warm caches or spinning threads."""
    pair = [name for name in ("nutshell_lib", "PyTorch CPU") if name in runs]
    others = {name: run for name, run in runs.items() if name not in pair}
    per_round = []
    for index in range(rounds):
        order = pair if index % 2 == 0 else pair[::-1]
        per_round.append(measure({name: runs[name] for name in order}, repeats, clock))
    per_round[0].update(measure(others, repeats, clock))
    seconds = {name: statistics.median(r[name] for r in per_round if name in r) for name in runs}
    ratios = [r["nutshell_lib"] / r["PyTorch CPU"] for r in per_round if "PyTorch CPU" in r]
    return seconds, ratios


def main(repeats: int = 7, dtype=np.float32, cpu_time: bool = False, rounds: int = ROUNDS) -> None:
    if cpu_time and numba.get_num_threads() != 1:
        raise SystemExit("--cpu-time counts the calling thread only: set NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1")
    clock = time.thread_time if cpu_time else time.perf_counter
    rng = np.random.default_rng(0)
    print(f"conv2d forward+backward, {np.dtype(dtype).name}, {numba.get_num_threads()} threads, "
          f"median {'CPU' if cpu_time else 'wall-clock'} time of at least {repeats} runs and {MIN_SECONDS} s, "
          f"then the median of {rounds} such rounds (PyTorch's alongside, the other peers once)")
    print("| shape | x * w, stride, pad | nutshell_lib ms | GFLOP/s | NumPy im2col ms (x) | naive ms (x) | PyTorch ms (x) "
          "| nutshell / PyTorch: median of the rounds, each round |")
    print("|---|---|---|---|---|---|---|---|")
    torch_ratios = []
    for name, x_shape, w_shape, stride, padding in SHAPES:
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        dy = rng.standard_normal(conv2d(x, w, b, stride=stride, padding=padding, device="cpu").shape).astype(dtype)
        seconds, round_ratios = measure_rounds(peers(x, w, b, dy, stride, padding, name), repeats, clock, rounds)
        # Forward, dx and dw are each one multiply-add per (output element, kernel tap).
        flops = 3 * 2 * dy.size * np.prod(w_shape[1:])
        ours = seconds["nutshell_lib"]

        def cell(peer):
            if peer not in seconds:
                return "-"
            return f"{seconds[peer] * 1e3:.1f} ({seconds[peer] / ours:.2f}x)"

        ratio_cell = "-"
        if round_ratios:
            torch_ratios.append(statistics.median(round_ratios))
            ratio_cell = f"**{torch_ratios[-1]:.2f}**: " + " ".join(f"{r:.2f}" for r in round_ratios)
        print(f"| {name} | {x_shape} * {w_shape}, {stride}, {padding} | {ours * 1e3:.1f} | {flops / ours / 1e9:.0f} | "
              f"{cell('NumPy im2col')} | {cell('naive loops')} | {cell('PyTorch CPU')} | "
              f"{ratio_cell} |")
    print("(x) = peer time / nutshell_lib time: above 1 means nutshell_lib is faster.")
    if torch_ratios:
        geomean = float(np.exp(np.mean(np.log(torch_ratios))))
        print(f"Geometric mean over the shapes of the median nutshell_lib / PyTorch ratio: {geomean:.2f}; highest {max(torch_ratios):.2f} "
              f"(targets: <= 1.0 and no shape above 1.5)")
    else:
        print("PyTorch is not installed: no PyTorch column.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--cpu-time", action="store_true", help="time the calling thread's CPU time (single-threaded runs only)")
    arguments = parser.parse_args()
    main(arguments.repeats, cpu_time=arguments.cpu_time, rounds=arguments.rounds)
