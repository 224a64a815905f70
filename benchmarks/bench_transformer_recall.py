"""A small transformer against the LSTM on long-lag recall, as the lag grows: name the symbol shown
``lag`` steps before the query (``datasets.long_lag_recall``, 8 symbols, chance 0.125).

Each model trains epoch by epoch until its validation accuracy reaches 95%, or the epochs or the
time budget run out; the table gives the epochs, the seconds and the accuracy at the end.

    .venv/bin/python -m benchmarks.bench_transformer_recall
"""
from __future__ import annotations

import time

import numpy as np

from nutshell_lib import datasets
from nutshell_lib.layers import LSTM, Dense, LastTimeStep, Sequential, SinusoidalPositions, TransformerBlock
from nutshell_lib.losses import softmax_cross_entropy
from nutshell_lib.optim import Adam
from nutshell_lib.training import fit

LAGS, SYMBOLS, WIDTH, HEADS, HIDDEN = (10, 30, 60, 100), 8, 32, 4, 64
TARGET, MAX_EPOCHS, BUDGET_S = 0.95, 20, 120.0


def transformer(positions: bool = True, seed: int = 0) -> Sequential:
    """One-hot symbols (N, T, 9) -> Dense to width 32 (+ sinusoidal positions) -> one transformer
    block (4 heads, MLP 64) -> the last step -> 8 class scores."""
    rng = np.random.default_rng(seed)
    return Sequential([Dense(SYMBOLS + 1, WIDTH, rng=rng), *([SinusoidalPositions(WIDTH)] if positions else []),
                       TransformerBlock(WIDTH, HEADS, HIDDEN, rng=rng), LastTimeStep(), Dense(WIDTH, SYMBOLS, rng=rng)])


def lstm(seed: int = 0) -> Sequential:
    """The LSTM of notebook 08: 32 units, forget-gate bias 3, a Dense readout of the last step."""
    rng = np.random.default_rng(seed)
    return Sequential([LSTM(SYMBOLS + 1, WIDTH, forget_bias=3.0, rng=rng), LastTimeStep(), Dense(WIDTH, SYMBOLS, rng=rng)])


def train_until_target(model, lr: float, lag: int) -> tuple[int, float, float]:
    """Epochs of Adam (batch 64, clip 1.0) on 2,048 sequences until 95% on 512 validation sequences.
    Returns (epochs, seconds, final validation accuracy)."""
    X, y = datasets.long_lag_recall(2048, lag, n_symbols=SYMBOLS, seed=0)
    validation = datasets.long_lag_recall(512, lag, n_symbols=SYMBOLS, seed=1)
    optimizer = Adam(model, lr=lr)
    start = time.perf_counter()
    for epoch in range(1, MAX_EPOCHS + 1):
        history = fit(model, softmax_cross_entropy, optimizer, X, y, epochs=1, batch_size=64, validation=validation,
                      seed=epoch, max_grad_norm=1.0, progress=False)
        seconds = time.perf_counter() - start
        if history.val_accuracy[-1] >= TARGET or seconds > BUDGET_S:
            break
    return epoch, seconds, history.val_accuracy[-1]


def main() -> None:
    print(f"long-lag recall, {SYMBOLS} symbols (chance {1 / SYMBOLS:.3f}), 2048 training / 512 validation sequences;")
    print(f"train until {TARGET:.0%} validation accuracy, at most {MAX_EPOCHS} epochs or about {BUDGET_S:.0f} s")
    print(f"{'model':<44} {'lag':>4} {'epochs':>7} {'seconds':>8} {'val acc':>8}")
    runs = [(f"transformer (1 block, width {WIDTH}, Adam 3e-3)", lambda: transformer(), 3e-3, lag) for lag in LAGS]
    runs += [(f"LSTM ({WIDTH} units, Adam 1e-2)", lstm, 1e-2, lag) for lag in LAGS]
    runs += [("transformer without positions", lambda: transformer(positions=False), 3e-3, 30)]
    for name, build, lr, lag in runs:
        epochs, seconds, val_accuracy = train_until_target(build(), lr, lag)
        print(f"{name:<44} {lag:>4} {epochs:>7} {seconds:>8.1f} {val_accuracy:>8.3f}", flush=True)


if __name__ == "__main__":
    main()
