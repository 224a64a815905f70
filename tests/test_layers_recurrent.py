"""RNN, LSTM and GRU against independent step-by-step references with PyTorch's equations and layout."""
import re

import numpy as np
import pytest

from nutshell_lib.layers import GRU, LSTM, RNN, Dense, LastTimeStep, Sequential


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference_lstm(x, W_ih, W_hh, b_ih, b_hh, h0, c0):
    """torch.nn.LSTM's documented equations, one gate and one time step at a time."""
    H = W_hh.shape[1]
    W_ii, W_if, W_ig, W_io = (W_ih[k * H:(k + 1) * H] for k in range(4))
    W_hi, W_hf, W_hg, W_ho = (W_hh[k * H:(k + 1) * H] for k in range(4))
    b_ii, b_if, b_ig, b_io = (b_ih[k * H:(k + 1) * H] for k in range(4))
    b_hi, b_hf, b_hg, b_ho = (b_hh[k * H:(k + 1) * H] for k in range(4))
    h, c, outputs = h0, c0, []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        i = sigmoid(x_t @ W_ii.T + b_ii + h @ W_hi.T + b_hi)
        f = sigmoid(x_t @ W_if.T + b_if + h @ W_hf.T + b_hf)
        g = np.tanh(x_t @ W_ig.T + b_ig + h @ W_hg.T + b_hg)
        o = sigmoid(x_t @ W_io.T + b_io + h @ W_ho.T + b_ho)
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def reference_gru(x, W_ih, W_hh, b_ih, b_hh, h0):
    """torch.nn.GRU's documented equations, one gate and one time step at a time."""
    H = W_hh.shape[1]
    W_ir, W_iz, W_in = (W_ih[k * H:(k + 1) * H] for k in range(3))
    W_hr, W_hz, W_hn = (W_hh[k * H:(k + 1) * H] for k in range(3))
    b_ir, b_iz, b_in = (b_ih[k * H:(k + 1) * H] for k in range(3))
    b_hr, b_hz, b_hn = (b_hh[k * H:(k + 1) * H] for k in range(3))
    h, outputs = h0, []
    for t in range(x.shape[1]):
        x_t = x[:, t]
        r = sigmoid(x_t @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
        z = sigmoid(x_t @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
        n = np.tanh(x_t @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
        h = (1 - z) * n + z * h
        outputs.append(h)
    return np.stack(outputs, axis=1)


def reference_rnn(x, W_ih, W_hh, b, h0):
    h, outputs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_ih.T + h @ W_hh.T + b)
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (3, 7, 2, 5), (2, 4, 6, 3)])
def test_lstm_matches_pytorch_equations(N, T, D, H):
    rng = np.random.default_rng(N * 100 + T)
    layer = LSTM(D, H, rng=rng, dtype=np.float64)
    W_ih, W_hh = layer.params["W_ih"], layer.params["W_hh"]
    b_ih, b_hh = rng.standard_normal(4 * H), rng.standard_normal(4 * H)
    layer.params["b"][:] = b_ih + b_hh  # how a PyTorch LSTM's two biases load into this layer
    x, h0, c0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    expected, h_T, c_T = reference_lstm(x, W_ih, W_hh, b_ih, b_hh, h0, c0)
    np.testing.assert_allclose(layer.forward(x, h0=h0, c0=c0), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.final_state[0], h_T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.final_state[1], c_T, rtol=1e-12, atol=1e-12)
    zeros = np.zeros((N, H))
    np.testing.assert_allclose(layer.forward(x), reference_lstm(x, W_ih, W_hh, b_ih, b_hh, zeros, zeros)[0],
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (3, 7, 2, 5), (2, 4, 6, 3)])
def test_gru_matches_pytorch_equations(N, T, D, H):
    rng = np.random.default_rng(N * 10 + T)
    layer = GRU(D, H, rng=rng, dtype=np.float64)
    layer.params["b_ih"][:] = rng.standard_normal(3 * H)
    layer.params["b_hh"][:] = rng.standard_normal(3 * H)
    p = layer.params
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    expected = reference_gru(x, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"], h0)
    np.testing.assert_allclose(layer.forward(x, h0=h0), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.forward(x), reference_gru(x, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"],
                                                               np.zeros((N, H))), rtol=1e-12, atol=1e-12)


def test_gru_layout_and_float32():
    layer = GRU(3, 4, rng=0)
    assert list(layer.params) == ["W_ih", "W_hh", "b_ih", "b_hh"]
    assert layer.params["W_ih"].shape == (12, 3) and layer.params["W_hh"].shape == (12, 4)
    assert layer.params["b_ih"].shape == layer.params["b_hh"].shape == (12,)
    assert np.abs(layer.params["W_ih"]).max() <= np.sqrt(6 / (3 + 4))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 20, 3))
    y32 = layer.forward(x.astype(np.float32))
    assert y32.dtype == np.float32 and layer.backward(np.ones_like(y32)).dtype == np.float32
    np.testing.assert_allclose(y32, GRU(3, 4, rng=0, dtype=np.float64).forward(x), atol=1e-5)


def test_gru_rejects_bad_shapes():
    with pytest.raises(ValueError, match=re.escape("GRU(3 -> 4): expected input (N, T, 3), got (2, 3)")):
        GRU(3, 4).forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape("GRU(3 -> 4): expected h0 (N, H) = (2, 4), got (4,)")):
        GRU(3, 4).forward(np.zeros((2, 5, 3)), h0=np.zeros(4))
    with pytest.raises(ValueError, match=re.escape("GRU(3 -> 0): hidden_size must be a positive int, got 0")):
        GRU(3, 0)


def test_last_time_step_after_a_gru_classifies_sequences():
    rng = np.random.default_rng(1)
    model = Sequential([GRU(2, 5, rng=2, dtype=np.float64), LastTimeStep(), Dense(5, 3, rng=3, dtype=np.float64)])
    x = rng.standard_normal((4, 6, 2))
    gru = model[0]
    dense = model[2].params
    np.testing.assert_allclose(model.forward(x), gru.forward(x)[:, -1] @ dense["W"] + dense["b"], rtol=1e-12)
    assert model.backward(np.ones((4, 3))).shape == x.shape


def test_lstm_layout_and_forget_bias():
    layer = LSTM(3, 4, rng=0)
    assert layer.params["W_ih"].shape == (16, 3)
    assert layer.params["W_hh"].shape == (16, 4)
    np.testing.assert_array_equal(layer.params["b"], [0] * 4 + [1] * 4 + [0] * 8)
    limit = np.sqrt(6 / (3 + 4))
    assert np.abs(layer.params["W_ih"]).max() <= limit


@pytest.mark.parametrize("N, T, D, H", [(1, 1, 1, 1), (3, 6, 2, 4)])
def test_rnn_matches_reference(N, T, D, H):
    rng = np.random.default_rng(T)
    layer = RNN(D, H, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(H)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    expected = reference_rnn(x, layer.params["W_ih"], layer.params["W_hh"], layer.params["b"], h0)
    np.testing.assert_allclose(layer.forward(x, h0=h0), expected, rtol=1e-12, atol=1e-12)


def test_lstm_float32_tracks_float64():
    rng = np.random.default_rng(0)
    layer32, layer64 = LSTM(3, 5, rng=1), LSTM(3, 5, rng=1, dtype=np.float64)
    x = rng.standard_normal((4, 20, 3))
    y32 = layer32.forward(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, layer64.forward(x), atol=1e-5)


def test_bad_initial_state_shape():
    layer = LSTM(3, 4, rng=0)
    with pytest.raises(ValueError, match=r"LSTM\(3 -> 4\): expected c0 \(N, H\) = \(2, 4\), got \(2, 3\)"):
        layer.forward(np.zeros((2, 5, 3)), c0=np.zeros((2, 3)))


def test_last_time_step():
    x = np.arange(24.0).reshape(2, 3, 4)
    layer = LastTimeStep()
    np.testing.assert_array_equal(layer.forward(x), x[:, -1])
    dx = layer.backward(np.ones((2, 4)))
    assert dx[:, :-1].sum() == 0 and (dx[:, -1] == 1).all()
