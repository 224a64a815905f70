"""One training epoch of LeNet-5 on random (N, 3, 32, 32) images: this kit's layers against
PyTorch on the CPU (when torch is importable; it is not a dependency of the kit).

    .venv/bin/python -m benchmarks.bench_lenet
"""
from __future__ import annotations

import time

import numpy as np

from nutshell_lib.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from nutshell_lib.losses import softmax_cross_entropy
from nutshell_lib.optim import SGD
from nutshell_lib.training import fit

IMAGES, BATCH, CLASSES, REPEATS = 10_000, 64, 10, 5


def lenet(seed: int = 0, classes: int = CLASSES) -> Sequential:
    """LeNet-5 for 3x32x32 inputs: two conv/ReLU/2x2-max-pool stages, then dense 120, 84, classes."""
    rng = np.random.default_rng(seed)
    return Sequential([
        Conv2D(3, 6, 5, rng=rng, input_grad=False), ReLU(), MaxPool2D(2),  # like torch: no grad for the data
        Conv2D(6, 16, 5, rng=rng), ReLU(), MaxPool2D(2),
        Flatten(),
        Dense(16 * 5 * 5, 120, rng=rng), ReLU(),
        Dense(120, 84, rng=rng), ReLU(),
        Dense(84, classes, rng=rng),
    ])


def random_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((IMAGES, 3, 32, 32), dtype=np.float32), rng.integers(0, CLASSES, IMAGES)


def timed(run) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def nutshell_epoch(X, y):
    """A function that trains one epoch of this kit's LeNet (kernels compiled before it returns)."""
    model = lenet()
    optimizer = SGD(model, lr=0.01, momentum=0.9)

    def epoch(X=X, y=y):
        fit(model, softmax_cross_entropy, optimizer, X, y, epochs=1, batch_size=BATCH, progress=False)

    epoch(X[:BATCH * 2], y[:BATCH * 2])
    return epoch


def torch_epoch(X, y):
    """The same for PyTorch on the CPU, or None when torch is not importable."""
    try:
        import torch
    except ImportError:
        return None
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, CLASSES))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    def epoch(n=len(X_t)):
        order = torch.randperm(n)
        for start in range(0, n, BATCH):
            batch = order[start:start + BATCH]
            optimizer.zero_grad()
            loss_fn(model(X_t[batch]), y_t[batch]).backward()
            optimizer.step()

    epoch(BATCH * 2)
    return epoch


def layer_profile(X, y) -> list[tuple[str, float, float]]:
    """Forward and backward seconds per epoch spent in each layer (one timed pass)."""
    model = lenet()
    totals = {index: [0.0, 0.0] for index in range(len(model))}
    for start in range(0, len(X), BATCH):
        out = X[start:start + BATCH]
        for index, layer in enumerate(model.layers):
            began = time.perf_counter()
            out = layer.forward(out)
            totals[index][0] += time.perf_counter() - began
        _, grad = softmax_cross_entropy(out, y[start:start + BATCH])
        for index in reversed(range(len(model))):
            began = time.perf_counter()
            grad = model.layers[index].backward(grad)
            totals[index][1] += time.perf_counter() - began
    return [(repr(model.layers[i]), f, b) for i, (f, b) in totals.items()]


def main() -> None:
    import numba

    X, y = random_data()
    runs = {"nutshell_lib layers + fit": nutshell_epoch(X, y)}
    reference = torch_epoch(X, y)
    if reference is not None:
        import torch

        runs[f"PyTorch {torch.__version__} CPU ({torch.get_num_threads()} threads)"] = reference
    times = {name: [] for name in runs}
    for _ in range(REPEATS):  # interleaved, so a busy machine slows both alike
        for name, run in runs.items():
            times[name].append(timed(run))
    print(f"LeNet-5, one epoch of {IMAGES} random 3x32x32 images, batch {BATCH}, SGD with momentum "
          f"(median and range of {REPEATS}, interleaved; {numba.get_num_threads()} Numba threads)")
    print(f"  {'':42s} {'wall s':>7s} {'range':>11s} {'CPU s':>7s}")
    medians = {}
    for name, pairs in times.items():
        walls, cpus = np.array(pairs).T
        medians[name] = (np.median(walls), np.median(cpus))
        print(f"  {name:42s} {np.median(walls):7.2f} {walls.min():5.2f}-{walls.max():<5.2f} {np.median(cpus):7.2f}")
    if reference is None:
        print("  PyTorch: not installed (optional, for this comparison only: .venv/bin/pip install torch==2.13.0)")
    else:
        (ours_wall, ours_cpu), (torch_wall, torch_cpu) = medians.values()
        (ours, _), (theirs, _) = (np.array(pairs).T for pairs in times.values())
        print(f"  ratio nutshell / torch of the medians: wall {ours_wall / torch_wall:.2f} (target <= 1.25), "
              f"CPU {ours_cpu / torch_cpu:.2f}; per interleaved pair: {' '.join(f'{r:.2f}' for r in ours / theirs)}")
    print("  per layer (forward / backward seconds per epoch, wall):")
    for name, forward, backward in layer_profile(X, y):
        print(f"    {name:42s} {forward:6.3f} / {backward:6.3f}")


if __name__ == "__main__":
    main()
