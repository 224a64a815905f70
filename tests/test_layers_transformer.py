"""The transformer's layers against references written out in loops: layer norm, embedding,
positional encodings, multi-head attention, the residual wrapper and the pre-norm block."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nutshell_lib.layers import Dense, LayerNorm, Residual, Sequential, Tanh


def reference_layer_norm(x, gamma, beta, eps):
    """Each last-axis vector normalised by its own mean and biased variance, one vector at a time."""
    y = np.empty_like(x)
    for position in np.ndindex(*x.shape[:-1]):
        v = x[position]
        mean = sum(v) / len(v)
        var = sum((v_i - mean) ** 2 for v_i in v) / len(v)
        y[position] = gamma * (v - mean) / np.sqrt(var + eps) + beta
    return y


@settings(max_examples=15, deadline=None)
@given(leading=st.lists(st.integers(1, 3), min_size=1, max_size=3), d=st.integers(1, 6),
       eps=st.sampled_from([1e-5, 1e-3, 0.5]), seed=st.integers(0, 2**16))
def test_layer_norm_matches_reference(leading, d, eps, seed):
    rng = np.random.default_rng(seed)
    layer = LayerNorm(d, eps=eps, dtype=np.float64)
    layer.params["gamma"][:] = rng.standard_normal(d)
    layer.params["beta"][:] = rng.standard_normal(d)
    x = 3 + 2 * rng.standard_normal((*leading, d))
    expected = reference_layer_norm(x, layer.params["gamma"], layer.params["beta"], eps)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(layer.forward(x, training=False), layer.forward(x))  # no batch statistics


def test_layer_norm_default_parameters_and_float32():
    layer = LayerNorm(4)
    np.testing.assert_array_equal(layer.params["gamma"], np.ones(4))
    np.testing.assert_array_equal(layer.params["beta"], np.zeros(4))
    y = layer.forward(np.arange(8.0).reshape(2, 4))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=-1), 1, rtol=1e-4)


@pytest.mark.parametrize("call, error, message", [
    (lambda: LayerNorm(4).forward(np.zeros((2, 3))), ValueError,
     "LayerNorm(4): expected input (N, ..., 4), got (2, 3)"),
    (lambda: LayerNorm(4).forward(np.zeros(4)), ValueError, "LayerNorm(4): expected input (N, ..., 4), got (4,)"),
    (lambda: LayerNorm(4).forward(np.array([["a"] * 4])), TypeError, "LayerNorm(4): expected a real-valued input"),
    (lambda: LayerNorm(0), ValueError, "LayerNorm(0): num_features must be a positive int, got 0"),
    (lambda: LayerNorm(3, eps=0), ValueError, "LayerNorm(3): eps must be positive, got 0"),
])
def test_layer_norm_rejects_bad_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_residual_adds_the_body_to_its_input():
    rng = np.random.default_rng(0)
    body = Sequential([Dense(4, 6, rng=1, dtype=np.float64), Tanh(), Dense(6, 4, rng=2, dtype=np.float64)])
    block = Residual(body)
    x, dy = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(block.forward(x), x + body.forward(x), rtol=1e-12)
    body.forward(x)
    expected_dx = dy + body.backward(dy)
    block.forward(x)
    np.testing.assert_allclose(block.backward(dy), expected_dx, rtol=1e-12)
    assert list(block.params) == ["body.0.W", "body.0.b", "body.2.W", "body.2.b"]
    assert block.params["body.2.W"] is body[2].params["W"]
