"""Splitting one labelled data set into training, validation and test parts."""
from __future__ import annotations

import numpy as np

from ._checks import positive_int


def train_val_test_split(X, y, *, n_val, n_test, seed=0):
    """Shuffle (X, y) once and cut it into training, validation and test sets.

    X (N, ...) inputs, y (N, ...) their labels; n_val, n_test: how many examples go to validation
    and to test (ints >= 1); the remaining N - n_val - n_test (at least 1) are for training.
    seed: the shuffle, ``numpy.random.default_rng(seed).permutation(N)``.
    Returns ((X_train, y_train), (X_val, y_val), (X_test, y_test)), copies in shuffled order.

    Use the validation set for every choice (epochs, learning rate, architecture) and the test
    set once, at the end, for the number you report.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"train_val_test_split: X {X.shape} and y {y.shape} must have the same length N")
    n_val, n_test = positive_int("n_val", n_val), positive_int("n_test", n_test)
    if n_val + n_test >= len(X):
        raise ValueError(f"train_val_test_split: n_val={n_val} + n_test={n_test} leaves no training examples "
                         f"out of N={len(X)}")
    order = np.random.default_rng(seed).permutation(len(X))
    val, test, train = np.split(order, [n_val, n_val + n_test])
    return (X[train], y[train]), (X[val], y[val]), (X[test], y[test])
