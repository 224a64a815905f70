"""Dense and Conv2D against naive loops written from the definitions, forward and backward."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nutshell_lib.layers import Conv2D, Dense
from oracles import conv2d_backward_loops, conv2d_loops, dense_backward_loops, dense_loops


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), d_in=st.integers(1, 7), d_out=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_dense_matches_loops(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(d_in, d_out, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(d_out)
    x, dy = rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))
    W, b = layer.params["W"], layer.params["b"]
    y, (dx, dW, db) = dense_loops(x, W, b), dense_backward_loops(dy, x, W)
    np.testing.assert_allclose(layer.forward(x), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], db, rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(leading=st.lists(st.integers(1, 3), min_size=1, max_size=3), d_in=st.integers(1, 5), d_out=st.integers(1, 5),
       seed=st.integers(0, 2**16))
def test_dense_over_leading_axes_applies_the_map_at_every_position(leading, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(d_in, d_out, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(d_out)
    W, b = layer.params["W"], layer.params["b"]
    x, dy = rng.standard_normal((*leading, d_in)), rng.standard_normal((*leading, d_out))
    y, dx = np.zeros((*leading, d_out)), np.zeros_like(x)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    for position in np.ndindex(*leading):
        y_row = dense_loops(x[position][None], W, b)
        dx_row, dW_here, db_here = dense_backward_loops(dy[position][None], x[position][None], W)
        y[position], dx[position] = y_row[0], dx_row[0]
        dW += dW_here
        db += db_here
    np.testing.assert_allclose(layer.forward(x), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], db, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), k=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       r=st.integers(1, 4), s=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_conv2d_matches_loops(n, c, k, h, w, r, s, sh, sw, ph, pw, dtype, seed):
    if h + 2 * ph < r or w + 2 * pw < s:
        return
    rng = np.random.default_rng(seed)
    layer = Conv2D(c, k, (r, s), stride=(sh, sw), padding=(ph, pw), rng=rng, dtype=dtype)
    layer.params["b"][:] = rng.standard_normal(k)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    W, b = layer.params["W"].astype(np.float64), layer.params["b"].astype(np.float64)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    expected = (conv2d_loops(x64, W, b, (sh, sw), (ph, pw)), *conv2d_backward_loops(dy64, x64, W, (sh, sw), (ph, pw)))
    dx = layer.backward(dy)
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    assert y.dtype == dtype and dx.dtype == dtype and layer.grads["W"].dtype == dtype
    for got, want in zip((y, dx, layer.grads["W"], layer.grads["b"]), expected):
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


def test_he_normal_initialization_scale():
    layer = Conv2D(16, 64, 3, rng=0)
    W = layer.params["W"]
    assert W.shape == (64, 16, 3, 3) and W.dtype == np.float32
    np.testing.assert_allclose(W.std(), np.sqrt(2 / (16 * 9)), rtol=0.05)
    assert abs(W.mean()) < 0.01 and not layer.params["b"].any()
    dense = Dense(400, 300, rng=0)
    np.testing.assert_allclose(dense.params["W"].std(), np.sqrt(2 / 400), rtol=0.05)


def test_conv2d_layer_without_input_grad_returns_none_and_same_grads():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 8, 8))
    full = Conv2D(3, 4, 3, padding=1, rng=np.random.default_rng(0), dtype=np.float64)
    first = Conv2D(3, 4, 3, padding=1, rng=np.random.default_rng(0), dtype=np.float64, input_grad=False)
    dy = rng.standard_normal(full.forward(x).shape)
    first.forward(x)
    assert full.backward(dy) is not None and first.backward(dy) is None
    for name in ("W", "b"):
        np.testing.assert_array_equal(first.grads[name], full.grads[name])
