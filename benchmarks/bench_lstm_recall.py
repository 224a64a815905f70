"""How fast an LSTM learns a long-lag recall task: a cue symbol at the first step, 50 steps of
random distractors, and the cue to be named at the end (Hochreiter & Schmidhuber 1997 style).

    .venv/bin/python -m benchmarks.bench_lstm_recall
"""
from __future__ import annotations

import time

import numpy as np

from nutshell_lib.layers import LSTM, Dense, LastTimeStep, Sequential
from nutshell_lib.losses import softmax_cross_entropy
from nutshell_lib.optim import Adam
from nutshell_lib.training import fit

LAG, SYMBOLS, HIDDEN = 50, 4, 32


def recall_data(n: int, seed: int, lag: int = LAG, symbols: int = SYMBOLS):
    """x (n, lag + 1, 2 * symbols): step 0 one-hot cue among the first ``symbols`` channels, then
    ``lag`` one-hot distractors among the other ``symbols`` channels. y (n,): the cue."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, lag + 1, 2 * symbols), np.float32)
    y = rng.integers(0, symbols, n)
    x[np.arange(n), 0, y] = 1
    distractors = symbols + rng.integers(0, symbols, (n, lag))
    x[np.arange(n)[:, None], np.arange(1, lag + 1)[None, :], distractors] = 1
    return x, y


def main(target_accuracy: float = 0.99, max_epochs: int = 30) -> None:
    X, y = recall_data(2048, seed=0)
    X_val, y_val = recall_data(512, seed=1)
    model = Sequential([LSTM(2 * SYMBOLS, HIDDEN, rng=0), LastTimeStep(), Dense(HIDDEN, SYMBOLS, rng=1)])
    optimizer = Adam(model, lr=0.01)
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        history = fit(model, softmax_cross_entropy, optimizer, X, y, epochs=1, batch_size=64,
                      validation=(X_val, y_val), seed=epoch, max_grad_norm=1.0, progress=False)
        if history.val_accuracy[-1] >= target_accuracy:
            break
    elapsed = time.perf_counter() - start
    print(f"LSTM({2 * SYMBOLS} -> {HIDDEN}) recall of a cue after {LAG} distractor steps, "
          f"{len(X)} training sequences, batch 64, Adam lr 0.01, clip 1.0")
    print(f"  validation accuracy {history.val_accuracy[-1]:.3f} after {epoch} epochs, {elapsed:.1f} s "
          f"(chance {1 / SYMBOLS:.2f}; target {target_accuracy})")


if __name__ == "__main__":
    main()
