"""Losses against their direct formulas, their gradients against central differences, and
stability for logits around 1e4."""
import numpy as np
import pytest

from nutshell_lib.gradcheck import gradcheck
from nutshell_lib.losses import binary_cross_entropy, mse, softmax_cross_entropy


def test_softmax_cross_entropy_matches_the_formula():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    np.testing.assert_allclose(loss, -np.mean(np.log(probabilities[np.arange(6), labels])), rtol=1e-12)
    expected = probabilities.copy()
    expected[np.arange(6), labels] -= 1
    np.testing.assert_allclose(dlogits, expected / 6, rtol=1e-12, atol=1e-15)
    one_hot = np.eye(4)[labels]
    np.testing.assert_allclose(softmax_cross_entropy(logits, one_hot)[0], loss, rtol=1e-12)


def test_binary_cross_entropy_matches_the_formula():
    rng = np.random.default_rng(1)
    logits, targets = rng.standard_normal((5, 1)), rng.integers(0, 2, (5, 1)).astype(float)
    p = 1 / (1 + np.exp(-logits))
    loss, dlogits = binary_cross_entropy(logits, targets)
    np.testing.assert_allclose(loss, -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)), rtol=1e-12)
    np.testing.assert_allclose(dlogits, (p - targets) / 5, rtol=1e-12)


def test_mse_matches_the_formula():
    rng = np.random.default_rng(2)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, dpred = mse(pred, target)
    np.testing.assert_allclose(loss, np.mean((pred - target) ** 2), rtol=1e-12)
    np.testing.assert_allclose(dpred, 2 * (pred - target) / 12, rtol=1e-12)


@pytest.mark.parametrize("loss_fn, make_target", [
    (softmax_cross_entropy, lambda r: r.integers(0, 5, 4)),
    (softmax_cross_entropy, lambda r: r.dirichlet(np.ones(5), 4)),
    (binary_cross_entropy, lambda r: r.random((4, 5))),
    (mse, lambda r: r.standard_normal((4, 5))),
])
def test_loss_gradients(loss_fn, make_target):
    rng = np.random.default_rng(3)
    result = gradcheck(loss_fn, (3 * rng.standard_normal((4, 5)), make_target(rng)))
    assert result, result.report()


def test_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = softmax_cross_entropy(logits, np.array([0, 0]))
        # the first row is right with certainty; the second is wrong by a margin of 2e4
        np.testing.assert_allclose(loss, 2e4 / 2, rtol=1e-12)
        np.testing.assert_allclose(dlogits, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-12)
        z = np.array([1e4, -1e4, 1e4, -1e4])
        loss, dz = binary_cross_entropy(z, np.array([1.0, 0.0, 0.0, 1.0]))
        np.testing.assert_allclose(loss, 2e4 / 4, rtol=1e-12)
        np.testing.assert_allclose(dz, [0, 0, 0.25, -0.25], atol=1e-12)
    loss32, d32 = softmax_cross_entropy(logits.astype(np.float32), np.array([1, 1]))
    assert np.isfinite(loss32) and d32.dtype == np.float32 and np.isfinite(d32).all()


@pytest.mark.parametrize("call, message", [
    (lambda: softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1, 4])), r"integer classes in \[0, 4\)"),
    (lambda: softmax_cross_entropy(np.zeros((3, 4)), np.array([0.0, 1.0, 2.0])), "integer classes"),
    (lambda: softmax_cross_entropy(np.zeros((3, 4)), np.zeros(2, int)), r"\(3,\) classes or \(3, 4\) distributions"),
    (lambda: softmax_cross_entropy(np.zeros(4), np.zeros(4, int)), r"logits must be \(N, C\)"),
    (lambda: binary_cross_entropy(np.zeros((3, 1)), np.zeros(3)), r"logits' shape \(3, 1\), got \(3,\)"),
    (lambda: mse(np.zeros((3, 2)), np.zeros((2, 3))), r"pred's shape \(3, 2\), got \(2, 3\)"),
])
def test_shape_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
