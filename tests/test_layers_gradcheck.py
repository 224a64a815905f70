"""Every layer's backward against float64 central differences, on its input and every parameter."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layer_cases import F64, away_from_zero, cases, distinct
from nutshell_lib.gradcheck import gradcheck
from nutshell_lib.layers import GRU, LSTM, RNN, AvgPool2D, Conv2D, Dense, Dropout, MaxPool2D

CASES = cases()


@pytest.mark.parametrize("name, make_layer, make_input", CASES, ids=[c[0] for c in CASES])
def test_layer_gradients_match_central_differences(name, make_layer, make_input):
    layer = make_layer()
    x = make_input(np.random.default_rng(0))
    result = gradcheck(layer, x)
    assert result, result.report()
    differentiable_input = {"input"} if x.dtype.kind == "f" else set()  # not an embedding's integer ids
    assert {m.array for m in result.arrays} == differentiable_input | set(layer.params)


def test_batchnorm_gradients_in_evaluation_mode():
    from nutshell_lib.layers import BatchNorm2D

    layer = BatchNorm2D(2, dtype=F64)
    rng = np.random.default_rng(1)
    layer.forward(rng.standard_normal((4, 2, 3, 3)))  # moves the running statistics off 0 and 1
    layer.params["gamma"][:] = [1.5, -0.5]
    result = gradcheck(layer, rng.standard_normal((2, 2, 3, 3)), training=False)
    assert result, result.report()


def test_dropout_gradient_with_a_fixed_mask():
    rng = np.random.default_rng(2)
    x, dy = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))

    def loss_and_gradient(x):
        layer = Dropout(0.4, rng=11)  # the same seed draws the same mask on every call
        return float(np.sum(layer.forward(x) * dy)), layer.backward(dy)

    result = gradcheck(loss_and_gradient, (x,))
    assert result, result.report()


@pytest.mark.parametrize("make_layer, extra", [
    (lambda: RNN(2, 3, rng=0, dtype=F64), ("h0",)),
    (lambda: LSTM(2, 3, rng=0, dtype=F64), ("h0", "c0")),
    (lambda: GRU(2, 3, rng=0, dtype=F64), ("h0",)),
])
def test_recurrent_initial_state_gradients(make_layer, extra):
    rng = np.random.default_rng(3)
    layer = make_layer()
    x = rng.standard_normal((2, 4, 2))
    states = [rng.standard_normal((2, 3)) for _ in extra]
    dy = rng.standard_normal((2, 4, 3))

    def loss_and_gradients(x, *states):
        y = layer.forward(x, **dict(zip(extra, states)))
        dx = layer.backward(dy)
        return float(np.sum(y * dy)), (dx, *(getattr(layer, "d" + name) for name in extra))

    result = gradcheck(loss_and_gradients, (x, *states), wrt=tuple(range(1 + len(extra))))
    assert result, result.report()


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), k=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       r=st.integers(1, 4), s=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2),
       seed=st.integers(0, 2**16))
def test_conv2d_layer_gradients_random_shapes(n, c, k, h, w, r, s, stride, padding, seed):
    if h + 2 * padding < r or w + 2 * padding < s:
        return
    rng = np.random.default_rng(seed)
    layer = Conv2D(c, k, (r, s), stride=stride, padding=padding, rng=rng, dtype=F64)
    layer.params["b"][:] = rng.standard_normal(k)
    result = gradcheck(layer, rng.standard_normal((n, c, h, w)), seed=seed)
    assert result, result.report()


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 8), w=st.integers(1, 8),
       size=st.integers(1, 3), stride=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_pool_layer_gradients_random_shapes(n, c, h, w, size, stride, seed):
    if h < size or w < size:
        return
    rng = np.random.default_rng(seed)
    x = distinct(rng, (n, c, h, w))
    for layer in (MaxPool2D(size, stride=stride), AvgPool2D(size, stride=stride)):
        result = gradcheck(layer, x, seed=seed)
        assert result, f"{layer!r}\n{result.report()}"


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 4), d_in=st.integers(1, 6), d_out=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_dense_gradients_random_shapes(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(d_in, d_out, rng=rng, dtype=F64)
    layer.params["b"][:] = rng.standard_normal(d_out)
    result = gradcheck(layer, away_from_zero(rng, (n, d_in)), seed=seed)
    assert result, result.report()
