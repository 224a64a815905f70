"""Synthetic sequence tasks where remembering over many steps is the whole difficulty (RNN vs LSTM).

Both tasks are solved perfectly by a model that remembers the right inputs, and are at chance for a
model that forgets them, so accuracy against ``lag`` / ``T`` shows how far back a network can remember.
"""
from __future__ import annotations

import numpy as np

from ._checks import balanced_labels, positive_int


def long_lag_recall(n: int, lag: int, n_symbols: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Recall the symbol shown ``lag`` steps before a query.

    Each sequence has T = lag + 1 steps and D = n_symbols + 1 one-hot channels:
      step 0:            the target, one of the n_symbols symbols;
      steps 1 .. lag-1:  distractors, random symbols from the same alphabet (so "repeat the last
                         symbol" does not work: the network has to keep the first one);
      step lag:          the query marker (channel n_symbols), asking for the target.
    The answer is the target symbol. Chance level is 1 / n_symbols (targets are balanced).

    Returns:
      X: float32 array (n, lag + 1, n_symbols + 1), one-hot per step.
      y: int64 array (n,), the target symbol in [0, n_symbols).
    """
    n = positive_int("n", n)
    lag = positive_int("lag", lag)
    n_symbols = positive_int("n_symbols", n_symbols, minimum=2)
    rng = np.random.default_rng(seed)
    targets = balanced_labels(n, n_symbols, rng)
    symbols = np.empty((n, lag + 1), dtype=np.int64)
    symbols[:, 0] = targets
    symbols[:, 1:lag] = rng.integers(0, n_symbols, (n, lag - 1))
    symbols[:, lag] = n_symbols  # the query marker
    X = np.eye(n_symbols + 1, dtype=np.float32)[symbols]
    return X, targets


def adding_problem(n: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997): add the two marked numbers of a sequence.

    Channel 0 holds T numbers uniform in [0, 1]; channel 1 marks exactly two steps with 1, one in the
    first half (steps 0 .. T//2 - 1) and one in the second half. The target is the sum of the two marked
    numbers. Always predicting 1 (the mean target) gives a mean squared error of 1/6 (~0.167), the
    chance level; a model that solves the task gets close to 0.

    Returns:
      X: float32 array (n, T, 2).
      y: float32 array (n,), in [0, 2].
    """
    n = positive_int("n", n)
    T = positive_int("T", T, minimum=2)
    rng = np.random.default_rng(seed)
    values = rng.random((n, T), dtype=np.float32)
    half = T // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, T, n)
    markers = np.zeros((n, T), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1
    markers[rows, second] = 1
    X = np.stack([values, markers], axis=2)
    return X, values[rows, first] + values[rows, second]
