"""The grader's reference answers against independent oracles: float64 central differences for
every gradient, the library's kernels for convolution and pooling, hand-worked small cases."""
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import expit, log_expit, logsumexp

import nutshell_lib as nl
from nutshell_lib.layers import LSTM, BatchNorm1D, LayerNorm
from nutshell_lib.optim import Adam, clip_grad_norm
from nutshell_lib.grading import reference as ref
from nutshell_lib.grading.questions import GRADING_STREAM, QUESTIONS, draw_cases
from nutshell_lib.losses import binary_cross_entropy, gaussian_kl

from oracles import central_difference

SEEDS = range(3)


def assert_gradient(analytic, f, x, tolerance=1e-6):
    numeric = central_difference(f, x)
    error = np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
    assert error.max() < tolerance, error.max()


def cases(name):
    return [args for seed in SEEDS for args in draw_cases(QUESTIONS[name], seed, GRADING_STREAM)]


@pytest.mark.parametrize("z", [np.array([-745.0, -710.0, -1.0, 0.0, 2.0, 710.0])])
def test_sigmoid_is_stable_and_exact(z):
    with np.errstate(over="raise"):
        s = ref.sigmoid(z)
    assert s[0] >= 0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(s[2:5], 1 / (1 + np.exp(-z[2:5])), rtol=1e-15)


def cross_entropy_oracle(z, y):
    """Mean binary cross-entropy through SciPy's log_expit, accurate for any logit."""
    return -np.mean(y * log_expit(z) + (1 - y) * log_expit(-z))


@pytest.mark.parametrize("args", cases("binary_cross_entropy_with_logits"))
def test_cross_entropy_with_logits_is_exact_for_huge_logits(args):
    z, y = (np.array(a) for a in args)
    assert np.max(np.abs(z)) > 40  # every case has a confidently wrong logit
    loss, dz = ref.binary_cross_entropy_with_logits(z, y)
    assert loss == pytest.approx(cross_entropy_oracle(z, y), rel=1e-12)
    np.testing.assert_allclose(dz, (expit(z) - y) / len(y), rtol=1e-12, atol=1e-15)
    assert_gradient(dz, lambda: cross_entropy_oracle(z, y), z, tolerance=1e-4)  # |loss| ~ 100: cancellation


def test_cross_entropy_of_a_confidently_wrong_logit_by_hand():
    # -log sigmoid(-800) = log(1 + e^800) = 800 to float64 precision; -log(1 - sigmoid(1000)) = 1000.
    loss, dz = ref.binary_cross_entropy_with_logits(np.array([-800.0, 1000.0]), np.array([1.0, 0.0]))
    assert loss == 900.0
    np.testing.assert_array_equal(dz, [-0.5, 0.5])


@pytest.mark.parametrize("args", cases("logistic_regression_step"))
def test_logistic_regression_step_descends_the_regularised_cross_entropy(args):
    w, b, X, y, lr, decay = args
    w_new, b_new, loss = ref.logistic_regression_step(w, b, X, y, lr, decay)

    def objective():
        return cross_entropy_oracle(X @ w + bias[0], y) + decay / 2 * np.sum(w ** 2)

    bias = np.array([b])
    assert loss == pytest.approx(objective(), rel=1e-12)
    assert_gradient((w - w_new) / lr, objective, w)
    assert_gradient(np.array([(b - b_new) / lr]), objective, bias)


@pytest.mark.parametrize("args", cases("geometric_margin"))
def test_geometric_margin_is_the_distance_to_the_closest_projection(args):
    w, b, X, y = args
    # Each point's foot on the plane w . x + b = 0, and the point's distance from it, signed by correctness.
    feet = X - np.outer((X @ w + b) / (w @ w), w)
    distances = np.linalg.norm(X - feet, axis=1) * np.where(y * (X @ w + b) > 0, 1, -1)
    assert ref.geometric_margin(w, b, X, y) == pytest.approx(distances.min(), rel=1e-9, abs=1e-12)
    assert ref.geometric_margin(7 * w, 7 * b, X, y) == pytest.approx(distances.min(), rel=1e-9, abs=1e-12)


def test_pocket_perceptron_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    y = np.array([1.0, -1.0, -1.0])
    # From w = 0 (3 errors): row 0 is a mistake, w = (1, 0), b = 1: rows 1 and 2 wrong (2 errors, pocketed).
    # Row 1 scores 1 with label -1: w = (1, -1), b = 0: row 2 on the boundary (1 error, pocketed).
    # Row 2 scores 0: w = (2, 0), b = -1: no errors, pocketed.
    w, b, errors = ref.pocket_perceptron(X, y, 1, 1.0)
    np.testing.assert_array_equal(w, [2.0, 0.0])
    assert (b, errors) == (-1.0, 0)


@pytest.mark.parametrize("args", cases("pocket_perceptron"))
def test_the_pocket_is_never_worse_than_where_the_rule_ends(args):
    X, y, epochs, lr = args
    w, b, errors = ref.pocket_perceptron(X, y, epochs, lr)
    assert errors == np.sum(y * (X @ w + b) <= 0)
    w_end, b_end, states = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ w_end + b_end) <= 0:
                w_end, b_end = w_end + lr * y_i * x_i, b_end + lr * y_i
                states.append(np.sum(y * (X @ w_end + b_end) <= 0))
    assert errors == min(states)


@pytest.mark.parametrize("args", cases("dense_tanh_backward"))
def test_dense_tanh_backward(args):
    dout, x, w, b = (np.array(a) for a in args)
    for value, grad in zip((x, w, b), ref.dense_tanh_backward(dout, x, w, b)):
        assert_gradient(grad, lambda: np.sum(np.tanh(x @ w + b) * dout), value)


@pytest.mark.parametrize("args", cases("mlp3_loss_and_grads"))
def test_mlp3_gradients(args):
    X, y, *params = args
    params = [np.array(p) for p in params]

    def loss():
        W1, b1, W2, b2, W3, b3 = params
        scores = np.tanh(np.tanh(X @ W1 + b1) @ W2 + b2) @ W3 + b3
        return np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(y)), y])

    value, *grads = ref.mlp3_loss_and_grads(X, y, *params)
    assert value == pytest.approx(loss(), rel=1e-12)
    for param, grad in zip(params, grads):
        assert_gradient(grad, loss, param)


@pytest.mark.parametrize("args", cases("conv2d_naive") + cases("conv2d_im2col"))
def test_conv2d_matches_the_library(args):
    x, w, b, stride, padding = args
    np.testing.assert_allclose(ref.conv2d(x, w, b, stride, padding),
                               nl.conv2d(x, w, b, stride=stride, padding=padding, device="cpu"), atol=1e-12)


@pytest.mark.parametrize("args", cases("conv2d_backward_naive"))
def test_conv2d_backward_matches_the_library_and_central_differences(args):
    dy, x, w, stride, padding = args
    ours = ref.conv2d_backward(dy, x, w, stride, padding)
    library = nl.conv2d_backward(dy, x, w, stride=stride, padding=padding, device="cpu")
    for a, e in zip(ours, library):
        np.testing.assert_allclose(a, e, atol=1e-12)
    b = np.zeros(w.shape[0])
    assert_gradient(ours[0], lambda: np.sum(ref.conv2d(x, w, b, stride, padding) * dy), x)
    assert_gradient(ours[1], lambda: np.sum(ref.conv2d(x, w, b, stride, padding) * dy), w)


@pytest.mark.parametrize("args", cases("avg_pool_backward"))
def test_avg_pool_backward_matches_the_library_and_central_differences(args):
    dy, x, size, stride = args
    dx = ref.avg_pool_backward(dy, x, size, stride)
    np.testing.assert_allclose(dx, nl.avg_pool2d_backward(dy, x, size, stride=stride, device="cpu"), atol=1e-12)
    assert_gradient(dx, lambda: np.sum(nl.avg_pool2d(x, size, stride=stride, device="cpu") * dy), x)


def library_padded(x, padding):
    """x padded with a value below all of x: never a window's maximum, like -inf (the kernels want finite input)."""
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=x.min() - 1)


@pytest.mark.parametrize("args", cases("max_pool_padded_backward"))
def test_padded_max_pool_matches_the_library_and_central_differences(args):
    dy, x, size, stride, padding = args
    np.testing.assert_array_equal(ref.max_pool(x, size, stride, padding),
                                  nl.max_pool2d(library_padded(x, padding), size, stride=stride, device="cpu"))
    dx = ref.max_pool_backward(dy, x, size, stride, padding)
    H, W = x.shape[2:]
    library = nl.max_pool2d_backward(dy, library_padded(x, padding), size, stride=stride, device="cpu")
    np.testing.assert_allclose(dx, library[:, :, padding:padding + H, padding:padding + W], atol=1e-12)
    assert_gradient(dx, lambda: np.sum(ref.max_pool(x, size, stride, padding) * dy), x)


def test_max_pool_padding_never_wins():
    x = -np.ones((1, 1, 2, 2))
    assert ref.max_pool(x, 2, 1, 1).max() == -1.0


def test_max_pool_backward_accumulates_overlapping_windows():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0  # the maximum of all four 3x3 windows taken with stride 2
    dx = ref.max_pool_backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), x, 3, 2)
    assert dx[0, 0, 2, 2] == 10.0 and dx.sum() == 10.0


@pytest.mark.parametrize("args", cases("cnn_output_shapes"))
def test_cnn_output_shapes_match_a_forward_pass(args):
    input_shape, layers = args
    x = np.zeros((1,) + tuple(input_shape[1:]))
    shapes = ref.cnn_output_shapes(input_shape, layers)
    for (kind, *params), shape in zip(layers, shapes):
        if kind == "conv":
            k, window, stride, padding = params
            x = nl.conv2d(x, np.zeros((k, x.shape[1], window, window)), stride=stride, padding=padding, device="cpu")
        elif kind == "pool":
            x = nl.max_pool2d(x, params[0], stride=params[1], device="cpu")
        elif kind == "flatten":
            x = x.reshape(1, -1)
        else:
            x = x @ np.zeros((x.shape[1], params[0]))
        assert shape == (input_shape[0],) + x.shape[1:]


@pytest.mark.parametrize("args", cases("cnn_training_step")[:6])
def test_cnn_training_step_moves_against_the_gradient(args):
    x, y, *params, lr = args
    loss, *updated = ref.cnn_training_step(x, y, *params, lr)

    def loss_now():
        return ref.cnn_training_step(x, y, *params, 0.0)[0]

    assert loss == pytest.approx(loss_now())
    for param, new in zip(params, updated):
        assert_gradient((param - new) / lr, loss_now, param, tolerance=1e-5)


@pytest.mark.parametrize("args", cases("inception_forward")[:6])
def test_inception_forward_branch_by_branch(args):
    x, params = args

    def conv_relu(inputs, name, padding=0):
        w, b = params[name]
        return np.maximum(nl.conv2d(inputs, w, b, padding=padding, device="cpu"), 0)

    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=x.min() - 1)  # never the max
    expected = np.concatenate([
        conv_relu(x, "1x1"), conv_relu(conv_relu(x, "3x3_reduce"), "3x3", 1),
        conv_relu(conv_relu(x, "5x5_reduce"), "5x5", 2),
        conv_relu(nl.max_pool2d(padded, 3, stride=1, device="cpu"), "pool_proj")], axis=1)
    np.testing.assert_allclose(ref.inception_forward(x, params), expected, atol=1e-12)


@pytest.mark.parametrize("args", cases("concat_channels_backward"))
def test_concat_backward_inverts_the_concatenation(args):
    dy, channels = args
    parts = ref.concat_channels_backward(dy, channels)
    assert [p.shape[1] for p in parts] == channels
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), dy)


def test_inception_3a_parameter_count():
    # GoogLeNet's module 3a, convolution by convolution: weights + biases.
    by_hand = (192 * 64 + 64) + (192 * 96 + 96) + (96 * 128 * 9 + 128) + (192 * 16 + 16) \
        + (16 * 32 * 25 + 32) + (192 * 32 + 32)
    assert ref.inception_param_count(192, 64, 96, 128, 16, 32, 32) == by_hand == 163_696


def test_lstm_cell_forward_on_a_scalar_cell():
    x, h, c = np.array([[0.5]]), np.array([[-0.3]]), np.array([[0.8]])
    W_ih, W_hh = np.array([[0.1], [0.2], [0.3], [0.4]]), np.array([[0.5], [0.6], [0.7], [0.8]])
    b = np.array([0.0, 0.1, 0.2, 0.3])
    a = 0.5 * W_ih[:, 0] - 0.3 * W_hh[:, 0] + b  # gate blocks i, f, g, o
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    c_new = sig(a[1]) * 0.8 + sig(a[0]) * np.tanh(a[2])
    h_new, c_out = ref.lstm_cell_forward(x, h, c, W_ih, W_hh, b)
    assert c_out[0, 0] == pytest.approx(c_new) and h_new[0, 0] == pytest.approx(sig(a[3]) * np.tanh(c_new))


@pytest.mark.parametrize("args", cases("lstm_cell_backward"))
def test_lstm_cell_backward_central_differences(args):
    dh, dc, *inputs = args
    grads = ref.lstm_cell_backward(dh, dc, *inputs)

    def objective():
        h, c = ref.lstm_cell_forward(*inputs)
        return np.sum(h * dh) + np.sum(c * dc)

    for value, grad in zip(inputs, grads):  # x, h_prev, c_prev, W_ih, W_hh, b in the forward's order
        assert_gradient(grad, objective, value)


def library_lstm(x, h0, c0, W_ih, W_hh, b):
    """nutshell_lib's LSTM layer holding these weights, after a forward pass from (h0, c0)."""
    layer = LSTM(x.shape[2], h0.shape[1], dtype=np.float64)
    for name, value in (("W_ih", W_ih), ("W_hh", W_hh), ("b", b)):
        layer.params[name][...] = value
    return layer, layer.forward(x, h0=h0, c0=c0)


@pytest.mark.parametrize("args", cases("lstm_backward"))
def test_lstm_over_a_sequence_matches_the_library_and_central_differences(args):
    dhs, *inputs = args
    hs = ref.lstm_forward(*inputs)
    layer, library_hs = library_lstm(*inputs)
    np.testing.assert_allclose(hs, library_hs, atol=1e-12)
    grads = ref.lstm_backward(dhs, *inputs)
    dx = layer.backward(dhs)
    library_grads = (dx, layer.dh0, layer.dc0, layer.grads["W_ih"], layer.grads["W_hh"], layer.grads["b"])
    for ours, library in zip(grads, library_grads):
        np.testing.assert_allclose(ours, library, atol=1e-12)
    for value, grad in zip(inputs, grads):  # x, h0, c0, W_ih, W_hh, b in the forward's order
        assert_gradient(grad, lambda: np.sum(ref.lstm_forward(*inputs) * dhs), value)


@pytest.mark.parametrize("args", cases("clip_grad_norm"))
def test_clip_grad_norm_matches_the_library(args):
    grads, max_norm = args
    clipped, norm = ref.clip_grad_norm(grads, max_norm)
    assert norm == pytest.approx(np.sqrt(sum((g ** 2).sum() for g in grads)), rel=1e-12)
    model = SimpleNamespace(grads={str(k): g.copy() for k, g in enumerate(grads)})
    assert clip_grad_norm(model, max_norm) == pytest.approx(norm, rel=1e-12)
    for ours, library, original in zip(clipped, model.grads.values(), grads):
        np.testing.assert_allclose(ours, library, rtol=1e-12)
        assert np.all(ours * original >= 0)  # the direction is kept
    clipped_norm = np.sqrt(sum((g ** 2).sum() for g in clipped))
    assert clipped_norm == pytest.approx(min(norm, max_norm), rel=1e-5)


@pytest.mark.parametrize("args", cases("adam_step"))
def test_adam_step_matches_the_library(args):
    param, grad, m, v, t, lr, beta1, beta2, eps = args
    new_param, new_m, new_v = ref.adam_step(param, grad, m, v, t, lr, beta1, beta2, eps)
    model = SimpleNamespace(params={"w": param.copy()}, grads={"w": grad})
    optimizer = Adam(model, lr=lr, betas=(beta1, beta2), eps=eps)
    optimizer.steps = t - 1  # the state after t - 1 steps
    optimizer.state["w"] = {"m": m.copy(), "v": v.copy(), "t": t - 1}  # Adam counts steps per parameter
    optimizer.step()
    np.testing.assert_allclose(new_param, model.params["w"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(new_m, optimizer.state["w"]["m"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(new_v, optimizer.state["w"]["v"], rtol=1e-12, atol=1e-15)


def test_adams_first_step_moves_every_weight_by_the_learning_rate():
    # With zero moments, bias correction makes the first step lr * g / (|g| + eps): lr times the sign of g.
    grad = np.array([3.0, -0.01, 1e-3])
    param, _, _ = ref.adam_step(np.zeros(3), grad, np.zeros(3), np.zeros(3), 1, 0.1, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(param, -0.1 * np.sign(grad), rtol=1e-4)


@pytest.mark.parametrize("args", cases("batchnorm_backward"))
def test_batchnorm_matches_the_library_and_central_differences(args):
    dout, x, gamma, beta, eps = args
    out = ref.batchnorm_forward(x, gamma, beta, eps)
    layer = BatchNorm1D(x.shape[1], eps=eps, dtype=np.float64)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    np.testing.assert_allclose(out, layer.forward(x, training=True), atol=1e-12)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)  # normalised, then shifted by beta
    grads = ref.batchnorm_backward(dout, x, gamma, beta, eps)
    library = (layer.backward(dout), layer.grads["gamma"], layer.grads["beta"])
    for ours, theirs in zip(grads, library):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
    for value, grad in zip((x, gamma, beta), grads):
        # absolute tolerance too: with two examples the output barely depends on x, and dx is near 0
        numeric = central_difference(lambda: np.sum(ref.batchnorm_forward(x, gamma, beta, eps) * dout), value)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
def test_layernorm_forward_by_hand():
    # The row (1, 2, 3) has mean 2 and biased variance 2/3, so x_hat = (-1, 0, 1) * sqrt(3/2).
    y = ref.layernorm_forward(np.array([[1.0, 2.0, 3.0]]), np.array([2.0, 1.0, 1.0]), np.array([0.0, 0.0, 5.0]), 0.0)
    np.testing.assert_allclose(y, [[-2 * np.sqrt(1.5), 0.0, 5.0 + np.sqrt(1.5)]], rtol=1e-14)


@pytest.mark.parametrize("args", cases("layernorm_forward"))
def test_layernorm_forward_row_by_row(args):
    x, gamma, beta, eps = args
    for row, out in zip(x, ref.layernorm_forward(x, gamma, beta, eps)):
        mean = sum(row) / len(row)
        var = sum((value - mean) ** 2 for value in row) / len(row)
        np.testing.assert_allclose(out, gamma * (row - mean) / np.sqrt(var + eps) + beta, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("args", cases("layernorm_backward"))
def test_layernorm_backward_central_differences(args):
    dy, x, gamma, beta, eps = args
    grads = ref.layernorm_backward(dy, x, gamma, beta, eps)
    for value, grad in zip((x, gamma, beta), grads):
        assert_gradient(grad, lambda: np.sum(ref.layernorm_forward(x, gamma, beta, eps) * dy), value)


@pytest.mark.parametrize("args", cases("residual_block_forward"))
def test_residual_block_forward_is_input_plus_two_dense_layers(args):
    x, W1, b1, W2, b2 = args
    hidden = np.maximum(nl.linear(x, W1, b1), 0)
    np.testing.assert_allclose(ref.residual_block_forward(x, W1, b1, W2, b2), x + nl.linear(hidden, W2, b2), atol=1e-12)


@pytest.mark.parametrize("args", cases("residual_block_backward"))
def test_residual_block_backward_central_differences(args):
    dy, *inputs = args
    grads = ref.residual_block_backward(dy, *inputs)
    for value, grad in zip(inputs, grads):  # x, W1, b1, W2, b2 in the forward's order
        assert_gradient(grad, lambda: np.sum(ref.residual_block_forward(*inputs) * dy), value)


@pytest.mark.parametrize("args", cases("layernorm_backward"))
def test_layernorm_matches_the_library(args):
    dy, x, gamma, beta, eps = args
    layer = LayerNorm(x.shape[1], eps=eps, dtype=np.float64)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    np.testing.assert_allclose(ref.layernorm_forward(x, gamma, beta, eps), layer.forward(x), atol=1e-12)
    dx, dgamma, dbeta = ref.layernorm_backward(dy, x, gamma, beta, eps)
    np.testing.assert_allclose(dx, layer.backward(dy), atol=1e-12)
    np.testing.assert_allclose(dgamma, layer.grads["gamma"], atol=1e-12)
    np.testing.assert_allclose(dbeta, layer.grads["beta"], atol=1e-12)


def softmax_attention(q, k, v, causal):
    """Attention written out in one batched expression, as in "Attention Is All You Need"."""
    scores = np.einsum("nid,njd->nij", q, k) / np.sqrt(q.shape[2])
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[1:], bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=2, keepdims=True))
    return (weights / weights.sum(axis=2, keepdims=True)) @ v


@pytest.mark.parametrize("args", cases("attention_forward"))
def test_attention_forward_matches_the_batched_formula(args):
    q, k, v, causal = args
    with np.errstate(over="raise"):  # the cases with scores in the thousands must not overflow
        out = ref.attention_forward(q, k, v, causal)
    np.testing.assert_allclose(out, softmax_attention(q, k, v, causal), rtol=1e-12, atol=1e-12)


def test_attention_cases_include_scores_that_overflow_exp():
    largest = max(np.abs(np.einsum("nid,njd->nij", q, k) / np.sqrt(q.shape[2])).max()
                  for q, k, _, _ in cases("attention_forward"))
    assert largest > 710


def test_attention_by_hand():
    # q . k0 = 2 and q . k1 = 0 with d = 4, so the scores are 2 / sqrt(4) = 1 and 0, and the weights
    # e / (e + 1) and 1 / (e + 1); under the causal mask the first query sees key 0 alone.
    q = np.array([[[1.0, 1.0, 0.0, 0.0]] * 2])
    k = np.array([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]])
    v = np.array([[[10.0, 0.0, 0.0, 0.0], [0.0, 20.0, 0.0, 0.0]]])
    w0 = np.e / (np.e + 1)
    out = ref.attention_forward(q, k, v, causal=False)
    np.testing.assert_allclose(out[0], [[10 * w0, 20 * (1 - w0), 0, 0]] * 2, rtol=1e-14)
    causal = ref.attention_forward(q, k, v, causal=True)
    np.testing.assert_allclose(causal[0], [[10, 0, 0, 0], [10 * w0, 20 * (1 - w0), 0, 0]], rtol=1e-14)


@pytest.mark.parametrize("args", cases("attention_backward"))
def test_attention_backward_central_differences(args):
    dout, q, k, v, causal = args
    grads = ref.attention_backward(dout, q, k, v, causal)
    # the objective sums up to 90 terms of size ~1, so the differences carry ~1e-9 of rounding,
    # against gradient entries as small as 1e-4: a relative 1e-5 is what the oracle can resolve
    for value, grad in zip((q, k, v), grads):
        assert_gradient(grad, lambda: np.sum(ref.attention_forward(q, k, v, causal) * dout), value, tolerance=1e-5)


def test_causal_attention_cannot_see_the_future():
    rng = np.random.default_rng(5)
    q, k, v = (rng.normal(size=(2, 6, 3)) for _ in range(3))
    later = k.copy(), v.copy()
    later[0][:, 4:] += 1.0
    later[1][:, 4:] -= 2.0
    np.testing.assert_array_equal(ref.attention_forward(q, k, v, True)[:, :4],
                                  ref.attention_forward(q, *later, True)[:, :4])
    # the first query sees only the first key, with weight 1 whatever q is: no gradient reaches it
    dq = ref.attention_backward(rng.normal(size=v.shape), q, k, v, True)[0]
    assert not dq[:, 0].any() and dq[:, 1:].all()


@pytest.mark.parametrize("args", cases("sinusoidal_positions"))
def test_sinusoidal_positions_formula(args):
    T, D = args
    t = np.arange(T)[:, None]
    frequencies = 1.0 / 10000 ** (np.arange(0, D, 2) / D)
    expected = np.zeros((T, D))
    expected[:, 0::2] = np.sin(t * frequencies)
    expected[:, 1::2] = np.cos(t * frequencies)[:, : D // 2]
    np.testing.assert_allclose(ref.sinusoidal_positions(T, D), expected, rtol=1e-12, atol=1e-15)


def test_sinusoidal_positions_first_rows():
    table = ref.sinusoidal_positions(2, 4)
    np.testing.assert_allclose(table, [[0, 1, 0, 1], [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)]], rtol=1e-15)


# 14 automatic differentiation ---------------------------------------------------------------

@pytest.mark.parametrize("args", cases("tanh_backward"))
def test_tanh_backward_central_differences(args):
    dout, out = args
    x = np.arctanh(out)
    # near saturation the slope is ~1e-4 and the differences lose digits: a looser tolerance
    assert_gradient(ref.tanh_backward(dout, np.tanh(x)), lambda: np.sum(np.tanh(x) * dout), x, tolerance=1e-5)


@pytest.mark.parametrize("args", cases("matmul_backward"))
def test_matmul_backward_central_differences(args):
    dout, a, b = args
    for value, grad in zip((a, b), ref.matmul_backward(dout, a, b)):
        assert_gradient(grad, lambda: np.sum((a @ b) * dout), value)


@pytest.mark.parametrize("args", cases("unbroadcast"))
def test_unbroadcast_is_the_gradient_of_broadcasting(args):
    grad, shape = args
    x = np.random.default_rng(0).normal(size=shape)
    summed = ref.unbroadcast(grad, shape)
    assert summed.shape == tuple(shape)
    assert_gradient(summed, lambda: np.sum(np.broadcast_to(x, grad.shape) * grad), x)


def test_unbroadcast_by_hand():
    grad = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ref.unbroadcast(grad, (3,)), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(ref.unbroadcast(grad, (2, 1)), [[3.0], [12.0]])
    assert ref.unbroadcast(grad, ()) == 15.0


@pytest.mark.parametrize("args", cases("mul_backward"))
def test_mul_backward_central_differences(args):
    dout, a, b = args
    for value, grad in zip((a, b), ref.mul_backward(dout, a, b)):
        assert grad.shape == value.shape
        assert_gradient(grad, lambda: np.sum(a * b * dout), value)


@pytest.mark.parametrize("args", cases("sum_backward"))
def test_sum_backward_central_differences(args):
    dout, shape, axis, keepdims = args
    x = np.random.default_rng(0).normal(size=shape)
    assert_gradient(ref.sum_backward(dout, shape, axis, keepdims),
                    lambda: np.sum(x.sum(axis=axis, keepdims=keepdims) * dout), x)


def recursive_order(nodes, root):
    """Depth-first post-order written recursively, the way the exercise describes it."""
    order = []

    def visit(i):
        if i not in order:
            for parent in nodes[i]["inputs"]:
                visit(parent)
            order.append(i)

    visit(root)
    return order


@pytest.mark.parametrize("args", cases("topological_order"))
def test_topological_order_is_depth_first_and_valid(args):
    nodes, root = args
    order = ref.topological_order(nodes, root)
    assert order == recursive_order(nodes, root) and order[-1] == root
    position = {node: k for k, node in enumerate(order)}
    assert len(position) == len(order)
    assert all(position[p] < position[i] for i in order for p in nodes[i]["inputs"])


def evaluate_root(nodes, values, root, replaced, value):
    """values[root] recomputed from the inputs with node ``replaced`` set to ``value``."""
    ops = {"add": np.add, "mul": np.multiply, "matmul": np.matmul, "tanh": np.tanh}
    memo = {replaced: value}

    def compute(i):
        if i not in memo:
            node, args = nodes[i], [compute(p) for p in nodes[i]["inputs"]]
            if node["op"] == "input":
                memo[i] = values[i]
            elif node["op"] == "sum":
                memo[i] = args[0].sum(axis=node["axis"], keepdims=node["keepdims"])
            else:
                memo[i] = ops[node["op"]](*args)
        return memo[i]

    return float(compute(root))


@pytest.mark.parametrize("args", cases("backward_pass"))
def test_backward_pass_central_differences_at_every_node(args):
    nodes, values, root = args
    grads = ref.backward_pass(nodes, values, root)
    assert len(grads) == len(nodes)
    for k, (value, grad) in enumerate(zip(values, grads)):
        x = np.array(value, dtype=np.float64)
        assert grad.shape == x.shape
        numeric = central_difference(lambda: evaluate_root(nodes, values, root, k, x), x)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7, err_msg=f"node {k}: {nodes[k]}")


def test_backward_pass_adds_the_shares_of_a_value_used_twice():
    # y = x * x + x with x = 3: dy/dx = 2x + 1 = 7, listed out of creation order
    nodes = [{"op": "sum", "inputs": [2], "axis": None, "keepdims": False}, {"op": "mul", "inputs": [3, 3]},
             {"op": "add", "inputs": [1, 3]}, {"op": "input", "inputs": []}, {"op": "input", "inputs": []}]
    values = [np.array(12.0), np.array(9.0), np.array(12.0), np.array(3.0), np.array(5.0)]
    grads = ref.backward_pass(nodes, values, 0)
    assert [float(g) for g in grads] == [1.0, 1.0, 1.0, 7.0, 0.0]  # node 4 is not used


def test_the_common_mistakes_of_exercise_14_are_named():
    q = QUESTIONS
    dout, out = args = cases("tanh_backward")[0]
    right = {"dx": ref.tanh_backward(*args)}
    assert "no second tanh" in q["tanh_backward"].diagnose(args, right, {"dx": dout * (1 - np.tanh(out) ** 2)})
    assert q["tanh_backward"].diagnose(args, right, right) is None
    grad = np.arange(6.0).reshape(2, 3)
    args, right = (grad, (2, 1)), {"grad": ref.unbroadcast(grad, (2, 1))}
    assert "keepdims=True" in q["unbroadcast"].diagnose(args, right, {"grad": grad})  # nothing summed but leading axes
    assert q["unbroadcast"].diagnose(args, right, right) is None
    args = (np.array([1.0, 2.0, 3.0]), (3, 3), 1, False)
    right = {"dx": ref.sum_backward(*args)}
    assert "expand_dims" in q["sum_backward"].diagnose(args, right, {"dx": np.broadcast_to(args[0], (3, 3))})
    assert q["sum_backward"].diagnose(args, right, right) is None
    for nodes, root in cases("topological_order"):
        right = {"order": np.array(ref.topological_order(nodes, root))}
        kahn = breadth_first_order(nodes, root)
        diagnose = q["topological_order"].diagnose
        if kahn != right["order"].tolist():
            assert "valid topological order" in diagnose((nodes, root), right, {"order": np.array(kahn)})
        assert diagnose((nodes, root), right, right) is None
        assert diagnose((nodes, root), right, {"order": right["order"][::-1]}) is None  # not valid: no such remark


def breadth_first_order(nodes, root):
    """Another valid topological order: Kahn's algorithm from the inputs, smallest index first."""
    reachable = recursive_order(nodes, root)
    pending = {i: len(nodes[i]["inputs"]) for i in reachable}
    order = []
    while pending:
        ready = min(i for i, count in pending.items() if count == 0)
        order.append(ready)
        del pending[ready]
        for i in pending:
            pending[i] -= nodes[i]["inputs"].count(ready)
    return order
@pytest.mark.parametrize("args", cases("reparameterize_backward"))
def test_reparameterize_backward_central_differences(args):
    dz, eps, log_var = args
    mu = np.random.default_rng(0).normal(size=dz.shape)
    dmu, dlog_var = ref.reparameterize_backward(dz, eps, log_var)

    def objective():
        return np.sum((mu + np.sqrt(np.exp(log_var)) * eps) * dz)  # z written out: sigma = sqrt(variance)

    assert_gradient(dmu, objective, mu)
    assert_gradient(dlog_var, objective, log_var)


def vae_loss_oracle(x, logits, mu, log_var):
    """The negative ELBO through SciPy's log_expit and the KL summed latent by latent."""
    reconstruction = -np.sum(x * log_expit(logits) + (1 - x) * log_expit(-logits))
    kl = sum(0.5 * (m ** 2 + np.exp(v) - 1 - v) for m, v in zip(mu.flat, log_var.flat))
    return (reconstruction + kl) / len(x)


@pytest.mark.parametrize("args", cases("vae_loss"))
def test_vae_loss_against_scipy_and_central_differences(args):
    x, logits, mu, log_var = (np.array(a) for a in args)
    assert np.max(np.abs(logits)) > 40  # every case has a confidently wrong pixel
    loss, dlogits, dmu, dlog_var = ref.vae_loss(x, logits, mu, log_var)
    assert loss == pytest.approx(vae_loss_oracle(x, logits, mu, log_var), rel=1e-12)
    objective = lambda: vae_loss_oracle(x, logits, mu, log_var)  # noqa: E731
    # the loss reaches hundreds (the confidently wrong pixel), so the differences lose digits to cancellation
    assert_gradient(dlogits, objective, logits, tolerance=1e-3)
    assert_gradient(dmu, objective, mu, tolerance=1e-3)
    assert_gradient(dlog_var, objective, log_var, tolerance=1e-3)


def test_vae_loss_agrees_with_the_library_losses():
    # the library's per-pixel mean BCE times D, plus its batch-mean KL
    rng = np.random.default_rng(4)
    x, logits, mu, log_var = rng.uniform(size=(3, 5)), rng.normal(size=(3, 5)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    bce, dbce = binary_cross_entropy(logits, x)
    kl, dmu, dlog_var = gaussian_kl(mu, log_var)
    expected = (5 * bce + kl, 5 * dbce, dmu, dlog_var)
    for got, want in zip(ref.vae_loss(x, logits, mu, log_var), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
