"""The transformer's layers against references written out in loops: layer norm, embedding,
positional encodings, multi-head attention, the residual wrapper and the pre-norm block."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from nutshell_lib.layers import (
    Dense, Embedding, LayerNorm, LearnedPositions, MultiHeadAttention, Residual, Sequential, SinusoidalPositions, Tanh,
    TransformerBlock, load_into, save, sinusoidal_positions,
)


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


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), t=st.integers(1, 6), vocabulary=st.integers(1, 5), d=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_embedding_looks_up_rows_and_adds_up_repeated_ids(n, t, vocabulary, d, seed):
    rng = np.random.default_rng(seed)
    layer = Embedding(vocabulary, d, rng=rng, dtype=np.float64)
    ids = rng.integers(0, vocabulary, (n, t))
    dy = rng.standard_normal((n, t, d))
    y = layer.forward(ids)
    expected_dW = np.zeros((vocabulary, d))
    for i in range(n):
        for j in range(t):
            np.testing.assert_array_equal(y[i, j], layer.params["W"][ids[i, j]])
            expected_dW[ids[i, j]] += dy[i, j]
    assert layer.backward(dy) is None
    np.testing.assert_allclose(layer.grads["W"], expected_dW, rtol=1e-12, atol=1e-15)


def test_embedding_initialisation_and_dtype():
    layer = Embedding(300, 40, rng=0)
    W = layer.params["W"]
    assert W.shape == (300, 40) and W.dtype == np.float32
    np.testing.assert_allclose(W.std(), 1.0, rtol=0.05)  # standard normal, as torch.nn.Embedding
    assert layer.forward(np.array([[0, 299]], dtype=np.uint16)).dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: Embedding(10, 4).forward(np.array([[1, 10, 3, 12]])), ValueError,
     "Embedding(10, 4): ids must be in [0, 10), got 2 outside it (values from 1 to 12, first bad one 10)"),
    (lambda: Embedding(10, 4).forward(np.array([[-1, 2]])), ValueError,
     "Embedding(10, 4): ids must be in [0, 10), got 1 outside it (values from -1 to 2, first bad one -1)"),
    (lambda: Embedding(10, 4).forward(np.array([[1.0, 2.0]])), TypeError,
     "Embedding(10, 4): ids must be an integer array, got dtype float64"),
    (lambda: Embedding(10, 4).forward(np.array([[True]])), TypeError,
     "Embedding(10, 4): ids must be an integer array, got dtype bool"),
    (lambda: Embedding(10, 4).forward(np.int64(3)), ValueError, "Embedding(10, 4): expected ids (N, T), got shape ()"),
    (lambda: Embedding(0, 4), ValueError, "Embedding(0, 4): num_embeddings must be a positive int, got 0"),
    (lambda: Embedding(10, 2.0), TypeError, "Embedding(10, 2.0): embedding_dim must be a positive int, got 2.0"),
])
def test_embedding_rejects_bad_ids_and_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_embedding_backward_checks_dy():
    layer = Embedding(5, 3)
    layer.forward(np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match=re.escape("Embedding(5, 3): backward expected dy of the output's shape "
                                                   "(2, 4, 3), got (2, 4)")):
        layer.backward(np.zeros((2, 4)))


@pytest.mark.parametrize("T, D", [(1, 1), (5, 4), (7, 5), (50, 16)])
def test_sinusoidal_positions_match_the_formula(T, D):
    table = sinusoidal_positions(T, D, dtype=np.float64)
    assert table.shape == (T, D)
    for t in range(T):
        for j in range(D):
            angle = t / 10000 ** ((j - j % 2) / D)
            assert table[t, j] == pytest.approx(np.sin(angle) if j % 2 == 0 else np.cos(angle), abs=1e-12)
    assert sinusoidal_positions(T, D).dtype == np.float32


def test_sinusoidal_layer_adds_the_table():
    x = np.random.default_rng(0).standard_normal((2, 6, 4))
    layer = SinusoidalPositions(4)
    np.testing.assert_allclose(layer.forward(x), x + sinusoidal_positions(6, 4, np.float64), rtol=1e-12)
    assert layer.forward(x.astype(np.float32)).dtype == np.float32
    assert layer.params == {}


def test_learned_positions_add_a_row_per_step_and_sum_its_gradient_over_the_batch():
    rng = np.random.default_rng(1)
    layer = LearnedPositions(8, 3, rng=2, dtype=np.float64)
    P = layer.params["P"]
    np.testing.assert_allclose(P.std(), 0.02, rtol=0.5)
    x, dy = rng.standard_normal((4, 5, 3)), rng.standard_normal((4, 5, 3))
    y = layer.forward(x)
    expected_dP = np.zeros_like(P)
    for n in range(4):
        for t in range(5):
            np.testing.assert_array_equal(y[n, t], x[n, t] + P[t])
            expected_dP[t] += dy[n, t]
    np.testing.assert_array_equal(layer.backward(dy), dy)
    np.testing.assert_allclose(layer.grads["P"], expected_dP, rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: LearnedPositions(4, 3).forward(np.zeros((1, 5, 3))),
     "LearnedPositions(4, 3): the sequence has T = 5 steps, more than max_len = 4"),
    (lambda: LearnedPositions(4, 3).forward(np.zeros((1, 2, 2))),
     "LearnedPositions(4, 3): expected input (N, T, 3), got (1, 2, 2)"),
    (lambda: SinusoidalPositions(4).forward(np.zeros((2, 4))), "SinusoidalPositions(4): expected input (N, T, 4), got (2, 4)"),
    (lambda: sinusoidal_positions(0, 4), "sinusoidal_positions: T must be a positive int, got 0"),
    (lambda: LearnedPositions(0, 3), "LearnedPositions(0, 3): max_len must be a positive int, got 0"),
])
def test_positions_reject_bad_shapes_and_arguments(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def reference_attention(x, p, num_heads, causal):
    """Self-attention one example, one head and one query step at a time, softmax written out."""
    N, T, D = x.shape
    d = D // num_heads
    y, weights = np.zeros((N, T, D)), np.zeros((N, num_heads, T, T))
    for n in range(N):
        q, k, v = (x[n] @ p[f"W_{r}"] + p[f"b_{r}"] for r in "qkv")
        heads = []
        for h in range(num_heads):
            columns = slice(h * d, (h + 1) * d)
            out = np.zeros((T, d))
            for i in range(T):
                visible = range(i + 1) if causal else range(T)
                scores = np.array([q[i, columns] @ k[j, columns] / np.sqrt(d) for j in visible])
                e = np.exp(scores - scores.max())
                for j, w in zip(visible, e / e.sum()):
                    weights[n, h, i, j] = w
                    out[i] += w * v[j, columns]
            heads.append(out)
        y[n] = np.concatenate(heads, axis=1) @ p["W_o"] + p["b_o"]
    return y, weights


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 2), t=st.integers(1, 5), heads=st.integers(1, 3), d=st.integers(1, 3),
       causal=st.booleans(), seed=st.integers(0, 2**16))
def test_attention_matches_per_head_loops(n, t, heads, d, causal, seed):
    rng = np.random.default_rng(seed)
    layer = MultiHeadAttention(heads * d, heads, causal=causal, rng=rng, dtype=np.float64)
    for array in layer.params.values():
        array[...] = rng.standard_normal(array.shape)
    x = rng.standard_normal((n, t, heads * d))
    expected, expected_weights = reference_attention(x, layer.params, heads, causal)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-10, atol=1e-10)
    assert layer.attention_weights.shape == (n, heads, t, t)
    np.testing.assert_allclose(layer.attention_weights, expected_weights, rtol=1e-10, atol=1e-12)


def test_causal_attention_ignores_the_future():
    rng = np.random.default_rng(0)
    layer = MultiHeadAttention(8, 2, causal=True, rng=1, dtype=np.float64)
    x = rng.standard_normal((2, 6, 8))
    changed = x.copy()
    changed[:, 4:] += 10 * rng.standard_normal((2, 2, 8))
    np.testing.assert_allclose(layer.forward(changed)[:, :4], layer.forward(x)[:, :4], rtol=1e-12)
    weights = layer.attention_weights
    np.testing.assert_array_equal(weights[..., np.triu_indices(6, 1)[0], np.triu_indices(6, 1)[1]], 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    open_layer = MultiHeadAttention(8, 2, rng=1, dtype=np.float64)
    assert not np.allclose(open_layer.forward(changed)[:, :4], open_layer.forward(x)[:, :4])


def test_attention_is_stable_for_huge_scores_and_float32_by_default():
    layer = MultiHeadAttention(4, 1, rng=0)
    layer.params["W_q"][...] = 1e3 * np.eye(4)
    layer.params["W_k"][...] = 1e3 * np.eye(4)
    with np.errstate(over="raise", invalid="raise"):
        y = layer.forward(np.random.default_rng(0).standard_normal((1, 5, 4)))
    assert y.dtype == np.float32 and np.isfinite(y).all()
    np.testing.assert_allclose(layer.attention_weights.sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("call, error, message", [
    (lambda: MultiHeadAttention(10, 3), ValueError,
     "MultiHeadAttention(10, 3): embed_dim must be divisible by num_heads, got 10 and 3"),
    (lambda: MultiHeadAttention(8, 0), ValueError, "MultiHeadAttention(8, 0): num_heads must be a positive int, got 0"),
    (lambda: MultiHeadAttention(8, 2, causal="yes"), TypeError,
     "MultiHeadAttention(8, 2): causal must be True or False, got 'yes'"),
    (lambda: MultiHeadAttention(8, 2).forward(np.zeros((2, 8))), ValueError,
     "MultiHeadAttention(8, 2): expected input (N, T, 8), got (2, 8)"),
    (lambda: MultiHeadAttention(8, 2, causal=True).forward(np.zeros((2, 3, 4))), ValueError,
     "MultiHeadAttention(8, 2, causal=True): expected input (N, T, 8), got (2, 3, 4)"),
])
def test_attention_rejects_bad_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_attention_float32_backward_stays_float32():
    layer = MultiHeadAttention(4, 2, causal=True, rng=0)
    y = layer.forward(np.ones((2, 3, 4), np.float32))
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in layer.grads.values())


@pytest.mark.parametrize("causal", [False, True])
def test_transformer_block_is_the_pre_norm_equations(causal):
    rng = np.random.default_rng(4)
    block = TransformerBlock(6, 3, 10, causal=causal, rng=5, dtype=np.float64)
    for array in block.params.values():
        array[...] = 0.5 * rng.standard_normal(array.shape)
    p = block.params
    x = rng.standard_normal((2, 5, 6))
    attention = {key: p[f"attention.body.1.{key}"] for key in ("W_q", "W_k", "W_v", "W_o", "b_q", "b_k", "b_v", "b_o")}
    normed = reference_layer_norm(x, p["attention.body.0.gamma"], p["attention.body.0.beta"], 1e-5)
    h = x + reference_attention(normed, attention, 3, causal)[0]
    normed = reference_layer_norm(h, p["mlp.body.0.gamma"], p["mlp.body.0.beta"], 1e-5)
    hidden = normed @ p["mlp.body.1.W"] + p["mlp.body.1.b"]
    expected = h + (hidden * norm.cdf(hidden)) @ p["mlp.body.3.W"] + p["mlp.body.3.b"]
    np.testing.assert_allclose(block.forward(x), expected, rtol=1e-10, atol=1e-10)
    assert block.attention_weights.shape == (2, 3, 5, 5)
    assert p["mlp.body.1.W"].shape == (6, 10) and p["mlp.body.3.W"].shape == (10, 6)
    assert len(p) == 2 + 8 + 2 + 4


def test_transformer_block_rejects_bad_arguments():
    with pytest.raises(ValueError, match=re.escape("TransformerBlock(10, 3, hidden=8): MultiHeadAttention(10, 3): "
                                                   "embed_dim must be divisible by num_heads, got 10 and 3")):
        TransformerBlock(10, 3, 8)
    with pytest.raises(ValueError, match=re.escape("TransformerBlock(8, 2, hidden=0): hidden must be a positive int")):
        TransformerBlock(8, 2, 0)
    with pytest.raises(ValueError, match=re.escape("TransformerBlock layer attention: Sequential layer 0: LayerNorm(8): "
                                                   "expected input (N, ..., 8), got (1, 3, 4)")):
        TransformerBlock(8, 2, 16).forward(np.zeros((1, 3, 4)))


def test_transformer_block_saves_and_loads_under_its_dotted_names(tmp_path):
    x = np.random.default_rng(0).standard_normal((2, 4, 8)).astype(np.float32)
    trained, fresh = TransformerBlock(8, 2, 16, rng=1), TransformerBlock(8, 2, 16, rng=2)
    save(trained, tmp_path / "block.npz")
    load_into(fresh, tmp_path / "block.npz")
    np.testing.assert_array_equal(fresh.forward(x), trained.forward(x))


def test_sequential_with_named_parts():
    model = Sequential({"encoder": Dense(4, 8, rng=0), "head": Dense(8, 2, rng=1)})
    assert list(model.params) == ["encoder.W", "encoder.b", "head.W", "head.b"]
    assert model[1] is model.children["head"]
    model.forward(np.ones((3, 4)))
    with pytest.raises(ValueError, match=re.escape("Sequential layer head: Dense(8 -> 2): backward expected dy")):
        model.backward(np.ones((3, 3)))
