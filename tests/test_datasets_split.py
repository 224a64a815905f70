"""Tests for datasets.train_val_test_split: a partition of the examples, pairs kept together, seeded."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nutshell_lib.datasets import train_val_test_split


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 200), data=st.data(), seed=st.integers(0, 2**16))
def test_split_is_a_partition_that_keeps_pairs(n, data, seed):
    n_val = data.draw(st.integers(1, n - 2))
    n_test = data.draw(st.integers(1, n - 1 - n_val))
    ids = np.arange(n)
    X = np.stack([ids, -ids], axis=1).astype(float)       # row k is (k, -k): its label must be k
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = train_val_test_split(X, ids, n_val=n_val, n_test=n_test, seed=seed)
    assert (len(X_va), len(X_te), len(X_tr)) == (n_val, n_test, n - n_val - n_test)
    for part_X, part_y in [(X_tr, y_tr), (X_va, y_va), (X_te, y_te)]:
        np.testing.assert_array_equal(part_X[:, 0], part_y)
        np.testing.assert_array_equal(part_X[:, 1], -part_y)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_va, y_te])), ids)


def test_split_is_seeded_and_shuffles():
    X, y = np.arange(100.0)[:, None], np.arange(100)
    first = train_val_test_split(X, y, n_val=10, n_test=20, seed=3)
    again = train_val_test_split(X, y, n_val=10, n_test=20, seed=3)
    other = train_val_test_split(X, y, n_val=10, n_test=20, seed=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(first[1][1], other[1][1])
    expected = np.random.default_rng(3).permutation(100)
    np.testing.assert_array_equal(first[1][1], expected[:10])      # validation: the first 10 of the shuffle
    np.testing.assert_array_equal(first[2][1], expected[10:30])


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(n_val=5, n_test=5), ValueError, "leaves no training"),
    (dict(n_val=0, n_test=2), ValueError, "n_val"),
    (dict(n_val=2, n_test=1.5), TypeError, "n_test"),
])
def test_split_bad_sizes(kwargs, error, words):
    with pytest.raises(error, match=words):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(9), n_val=2, n_test=2)
