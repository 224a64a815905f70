"""The grader's reference answers against independent oracles: float64 central differences for
every gradient, the library's kernels for convolution and pooling, hand-worked small cases."""
import numpy as np
import pytest

import nutshell_lib as nl
from nutshell_lib.grading import reference as ref
from nutshell_lib.grading.questions import GRADING_STREAM, QUESTIONS, draw_cases

from test_conv import central_difference  # float64 central differences, shared with the conv tests

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


def test_sigmoid_grad_is_the_derivative():
    z = np.random.default_rng(0).normal(0, 3, 7)
    np.testing.assert_allclose(ref.sigmoid_grad(z), (ref.sigmoid(z + 1e-6) - ref.sigmoid(z - 1e-6)) / 2e-6, rtol=1e-7)


@pytest.mark.parametrize("args", cases("logistic_regression_step"))
def test_logistic_regression_step_descends_the_cross_entropy(args):
    w, b, X, y, lr = (np.array(a, dtype=float) if np.ndim(a) else a for a in args)
    w_new, b_new, loss = ref.logistic_regression_step(w, b, X, y, lr)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    assert loss == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-12)

    def loss_at():
        q = 1 / (1 + np.exp(-(X @ w + bias[0])))
        return -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))

    bias = np.array([b])
    assert_gradient((w - w_new) / lr, loss_at, w)
    assert_gradient(np.array([(b - b_new) / lr]), loss_at, bias)


def test_perceptron_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    y = np.array([1.0, -1.0, -1.0])
    # Start at w = 0, b = 0: row 0 sits on the boundary (mistake): w = (1, 0), b = 1. Row 1 scores
    # 0 + 1 = 1 > 0 with label -1: w = (1, -1), b = 0. Row 2 scores -1 + 1 + 0 = 0: mistake, w = (2, 0), b = -1.
    w, b, mistakes = ref.perceptron_epoch(np.zeros(2), 0.0, X, y, 1.0)
    np.testing.assert_array_equal(w, [2.0, 0.0])
    assert (b, mistakes) == (-1.0, 3)
    np.testing.assert_array_equal(ref.perceptron_predict(w, b, X), [1.0, -1.0, -1.0])


@pytest.mark.parametrize("args", cases("mlp_loss_and_grads"))
def test_mlp_gradients(args):
    X, y, *params = (np.array(a, dtype=float) if i != 1 else a for i, a in enumerate(args))
    loss, *grads = ref.mlp_loss_and_grads(X, y, *params)
    for param, grad in zip(params, grads):
        assert_gradient(grad, lambda: ref.mlp_loss_and_grads(X, y, *params)[0], param)


@pytest.mark.parametrize("args", cases("dense_backward"))
def test_dense_backward(args):
    dout, x, w, b = (np.array(a) for a in args)
    for value, grad in zip((x, w, b), ref.dense_backward(dout, x, w, b)):
        assert_gradient(grad, lambda: np.sum((x @ w + b) * dout), value)


@pytest.mark.parametrize("args", cases("conv2d_naive"))
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


@pytest.mark.parametrize("args", cases("max_pool_backward_naive"))
def test_max_pool_matches_the_library_and_central_differences(args):
    dy, x, size, stride = args
    np.testing.assert_array_equal(ref.max_pool(x, size, stride), nl.max_pool2d(x, size, stride=stride, device="cpu"))
    dx = ref.max_pool_backward(dy, x, size, stride)
    np.testing.assert_allclose(dx, nl.max_pool2d_backward(dy, x, size, stride=stride, device="cpu"), atol=1e-12)
    assert_gradient(dx, lambda: np.sum(ref.max_pool(x, size, stride) * dy), x)


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


def test_lstm_forward_on_a_scalar_cell():
    x, h, c = np.array([[0.5]]), np.array([[-0.3]]), np.array([[0.8]])
    W, b = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]), np.array([0.0, 0.1, 0.2, 0.3])
    z = 0.5 * W[0] - 0.3 * W[1] + b
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    c_new = sig(z[1]) * 0.8 + sig(z[0]) * np.tanh(z[3])
    h_new, c_out = ref.lstm_cell_forward(x, h, c, W, b)
    assert c_out[0, 0] == pytest.approx(c_new) and h_new[0, 0] == pytest.approx(sig(z[2]) * np.tanh(c_new))


@pytest.mark.parametrize("args", cases("lstm_cell_backward"))
def test_lstm_backward_central_differences(args):
    dh, dc, *inputs = args
    grads = ref.lstm_cell_backward(dh, dc, *inputs)

    def objective():
        h, c = ref.lstm_cell_forward(*inputs)
        return np.sum(h * dh) + np.sum(c * dc)

    for value, grad in zip(inputs, grads):  # x, h_prev, c_prev, W, b in the forward's order
        assert_gradient(grad, objective, value)


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
