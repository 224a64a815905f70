"""What each layer computes, against direct formulas: activations, batch norm, dropout, pooling
with padding, the inception module's branches, and saving/loading models."""
import numpy as np
import pytest
from scipy.stats import norm

from nutshell_lib import max_pool2d
from nutshell_lib.layers import (
    GELU, BatchNorm1D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, Inception, LeakyReLU, MaxPool2D, ReLU,
    Sequential, SiLU, Sigmoid, Softmax, Tanh, load_into, save,
)


def test_activations_match_their_formulas():
    x = np.linspace(-6, 6, 49)
    np.testing.assert_allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x), rtol=1e-12)
    np.testing.assert_array_equal(ReLU().forward(x), np.where(x > 0, x, 0))
    np.testing.assert_allclose(LeakyReLU(0.1).forward(x), np.where(x > 0, x, 0.1 * x), rtol=1e-12)
    np.testing.assert_allclose(GELU().forward(x), x * norm.cdf(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(SiLU().forward(x), x / (1 + np.exp(-x)), rtol=1e-12)


def test_sigmoid_and_softmax_do_not_overflow():
    big = np.array([[-1e4, 0.0, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_array_equal(Sigmoid().forward(big), [[0.0, 0.5, 1.0]])
        np.testing.assert_allclose(Softmax().forward(big), [[0.0, 0.0, 1.0]])
    y = Softmax().forward(np.random.default_rng(0).standard_normal((4, 6)))
    np.testing.assert_allclose(y.sum(axis=1), 1.0)


def test_integer_input_becomes_float():
    assert ReLU().forward(np.array([-1, 2])).dtype == np.float64


def test_flatten_keeps_batch_axis():
    x = np.arange(24.0).reshape(2, 3, 4)
    layer = Flatten()
    y = layer.forward(x)
    assert y.shape == (2, 12) and np.shares_memory(x, y)
    assert layer.backward(y).shape == (2, 3, 4)


def test_batchnorm_training_normalizes_and_updates_running_stats():
    rng = np.random.default_rng(0)
    x = 3 + 2 * rng.standard_normal((8, 3, 4, 5))
    layer = BatchNorm2D(3, momentum=0.1, dtype=np.float64)
    layer.params["gamma"][:] = [1.0, 2.0, 0.5]
    layer.params["beta"][:] = [0.0, -1.0, 3.0]
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), [0.0, -1.0, 3.0], atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), [1.0, 2.0, 0.5], rtol=1e-4)
    count = 8 * 4 * 5
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], 0.9 + 0.1 * x.var(axis=(0, 2, 3)) * count / (count - 1),
                               rtol=1e-12)


def test_batchnorm_evaluation_uses_running_stats():
    layer = BatchNorm1D(2, dtype=np.float64)
    layer.buffers["running_mean"][:] = [1.0, -2.0]
    layer.buffers["running_var"][:] = [4.0, 0.25]
    x = np.array([[3.0, -2.0], [1.0, -1.5]])
    expected = (x - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5)
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-12)
    np.testing.assert_allclose(layer.forward(x[:1], training=False), expected[:1], rtol=1e-12)  # batch of one is fine


def test_dropout_scales_survivors_and_is_identity_in_evaluation():
    x = np.ones((200, 500))
    layer = Dropout(0.3, rng=0)
    y = layer.forward(x)
    assert set(np.unique(y)) == {0.0, 1 / 0.7}
    assert abs((y == 0).mean() - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.01
    np.testing.assert_array_equal(layer.backward(x) == 0, y == 0)  # the same mask
    assert layer.forward(x, training=False) is x
    assert layer.backward(x) is x or np.array_equal(layer.backward(x), x)


def test_dropout_is_reproducible_from_its_seed():
    x = np.ones((4, 10))
    np.testing.assert_array_equal(Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=3).forward(x))


def test_padded_max_pool_pads_with_minus_infinity():
    x = -np.arange(1.0, 17.0).reshape(1, 1, 4, 4)  # all negative: zero padding would win
    y = MaxPool2D(3, stride=1, padding=1).forward(x)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    np.testing.assert_array_equal(y, max_pool2d(padded, 3, stride=1))
    assert y.shape == x.shape and y.max() < 0


def test_inception_concatenates_its_branches_in_order():
    rng = np.random.default_rng(0)
    block = Inception(4, 3, 2, 5, 1, 2, 6, rng=1, dtype=np.float64)
    x = rng.standard_normal((2, 4, 7, 5))
    y = block.forward(x)
    assert y.shape == (2, 3 + 5 + 2 + 6, 7, 5)
    branches = block.children
    np.testing.assert_array_equal(y[:, :3], branches["branch1"].forward(x))
    np.testing.assert_array_equal(y[:, 3:8], branches["branch3"].forward(x))
    np.testing.assert_array_equal(y[:, 8:10], branches["branch5"].forward(x))
    # the pool branch by hand: -inf padded 3x3 max pool with stride 1, then 1x1 conv and ReLU
    pooled = max_pool2d(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf), 3, stride=1)
    conv = branches["branch_pool"][1]
    projected = np.einsum("nchw,kc->nkhw", pooled, conv.params["W"][:, :, 0, 0]) + conv.params["b"][:, None, None]
    np.testing.assert_allclose(y[:, 10:], np.maximum(projected, 0), rtol=1e-12)
    assert (y >= 0).all()


def test_save_and_load_round_trip(tmp_path):
    def model(seed):
        return Sequential([Conv2D(1, 2, 3, rng=seed), BatchNorm2D(2), ReLU(), Flatten(), Dense(2 * 3 * 3, 4, rng=seed)])

    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 1, 5, 5)).astype(np.float32)
    trained = model(1)
    trained.forward(x)  # moves the batch norm's running statistics
    path = tmp_path / "model.npz"
    save(trained, path)
    fresh = model(2)
    W_before = fresh.params["0.W"]
    load_into(fresh, path)
    assert fresh.params["0.W"] is W_before  # loaded in place
    for name, array in {**trained.params, **trained.buffers}.items():
        np.testing.assert_array_equal({**fresh.params, **fresh.buffers}[name], array)
    np.testing.assert_array_equal(fresh.forward(x, training=False), trained.forward(x, training=False))


def test_load_refuses_a_different_model(tmp_path):
    path = tmp_path / "small.npz"
    save(Sequential([Dense(3, 4, rng=0)]), path)
    with pytest.raises(ValueError, match=r"0.W: model \(3, 5\), file \(3, 4\)"):
        load_into(Sequential([Dense(3, 5, rng=0)]), path)
    with pytest.raises(ValueError, match=r"missing arrays \['1.W', '1.b'\]"):
        load_into(Sequential([Dense(3, 4), Dense(4, 2)]), path)
