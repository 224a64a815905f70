"""Wrong answers, written on purpose: what a common mistake computes, so that a diagnosis
(``diagnoses.same_as``) can recognise it in a learner's output. Each takes the arguments of the
question it belongs to and returns the wrong value of one output.
"""
from __future__ import annotations

import numpy as np

from . import reference as ref


# 01 ----------------------------------------------------------------------------------------

def step_loss_without_penalty(w, b, X, y, learning_rate, weight_decay):
    return ref.logistic_regression_step(w, b, X, y, learning_rate, 0.0)[2]


def step_loss_after_the_step(w, b, X, y, learning_rate, weight_decay):
    w_new, b_new, _ = ref.logistic_regression_step(w, b, X, y, learning_rate, weight_decay)
    return ref.logistic_regression_step(w_new, b_new, X, y, learning_rate, weight_decay)[2]


def step_w_without_decay(w, b, X, y, learning_rate, weight_decay):
    return ref.logistic_regression_step(w, b, X, y, learning_rate, 0.0)[0]


def step_b_decayed(w, b, X, y, learning_rate, weight_decay):
    return ref.logistic_regression_step(w, b, X, y, learning_rate, weight_decay)[1] - learning_rate * weight_decay * b


def step_w_uphill(w, b, X, y, learning_rate, weight_decay):
    return 2 * w - ref.logistic_regression_step(w, b, X, y, learning_rate, weight_decay)[0]


# 02 ----------------------------------------------------------------------------------------

def margin_not_normalised(w, b, X, y):
    return np.min(y * (X @ w + b))


def margin_without_labels(w, b, X, y):
    return np.min(np.abs(X @ w + b)) / np.linalg.norm(w)


def margin_of_the_farthest(w, b, X, y):
    return np.max(y * (X @ w + b)) / np.linalg.norm(w)


def _perceptron_run(X, y, epochs, learning_rate, keep):
    """The perceptron rule from zero; ``keep(errors, best)`` decides whether a state replaces the pocket."""
    w, b = np.zeros(X.shape[1]), 0.0
    best = (w, b, len(y))  # at w = 0, b = 0 every row is on the boundary: an error
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ w + b) <= 0:
                w, b = w + learning_rate * y_i * x_i, b + learning_rate * y_i
                errors = int(np.sum(y * (X @ w + b) <= 0))
                if keep(errors, best[2]):
                    best = (w, b, errors)
    return best


def pocket_w_last(X, y, epochs, learning_rate):
    """The weights at the end of the run: no pocket, or a pocket that aliases the running w."""
    return _perceptron_run(X, y, epochs, learning_rate, lambda errors, best: True)[0]


def pocket_w_last_in_a_tie(X, y, epochs, learning_rate):
    return _perceptron_run(X, y, epochs, learning_rate, lambda errors, best: errors <= best)[0]


# 03 ----------------------------------------------------------------------------------------

def dense_tanh_dx_without_slope(dout, x, w, b):
    return dout @ w.T


def dense_tanh_dx_tanh_twice(dout, x, w, b):
    """The slope 1 - tanh(y)**2 taken of the output y = tanh(z) instead of 1 - y**2."""
    return dout * (1.0 - np.tanh(np.tanh(x @ w + b)) ** 2) @ w.T


def mlp3_dW1_without_first_slope(X, y, W1, b1, W2, b2, W3, b3):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    _, dscores = ref.softmax_cross_entropy(h2 @ W3 + b3, y)
    dh1 = ((dscores @ W3.T) * (1.0 - h2 ** 2)) @ W2.T
    return X.T @ dh1


# 04 ----------------------------------------------------------------------------------------

def conv2d_backward_dx_assigned(dy, x, w, stride=1, padding=0, filters_summed=False):
    """dx of conv2d_backward with ``dx_pad[n, :, window] = dy[n, k, i, j] * w[k]``: the last filter
    and the last window reaching an input overwrite the others. With ``filters_summed`` the loop
    over filters was vectorised first, so each window assigns its sum over k instead."""
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    P, Q = dy.shape[2:]
    padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(P):
        for j in range(Q):
            if filters_summed:
                window_grad = np.einsum("nk,kcrs->ncrs", dy[:, :, i, j], w)
            else:
                window_grad = dy[:, K - 1, i, j, None, None, None] * w[K - 1]
            padded[:, :, i * stride:i * stride + R, j * stride:j * stride + S] = window_grad
    return padded[:, :, padding:padding + H, padding:padding + W]


def conv2d_flipped(x, w, b, stride=1, padding=0):
    """True convolution (the kernel flipped), where deep learning means cross-correlation."""
    return ref.conv2d(x, w[:, :, ::-1, ::-1], b, stride, padding)


def conv2d_without_bias(x, w, b, stride=1, padding=0):
    return ref.conv2d(x, w, np.zeros_like(b), stride, padding)


# 05 ----------------------------------------------------------------------------------------

def avg_pool_backward_assigned(dy, x, size, stride):
    """dx with ``dx[:, :, window] = dy[:, :, i, j] / size**2``: the last window overwrites."""
    dx = np.zeros(x.shape)
    P, Q = dy.shape[2:]
    for i in range(P):
        for j in range(Q):
            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] = dy[:, :, i, j, None, None] / size ** 2
    return dx


def max_pool_zero_padded(x, size, stride, padding):
    """Max-pooling with zeros as padding: a 0 beats every negative value near the border."""
    return ref.max_pool(ref._pad(x, padding), size, stride)


def max_pool_backward_zero_padded(dy, x, size, stride, padding):
    """The backward pass of max_pool_zero_padded: gradient that lands in the padding is lost."""
    H, W = x.shape[2:]
    return ref.max_pool_backward(dy, ref._pad(x, padding), size, stride)[:, :, padding:padding + H, padding:padding + W]


def max_pool_backward_assigned(dy, x, size, stride, padding):
    """dx with ``dx_pad[n, c, argmax] = dy[n, c, i, j]``: an input that is the maximum of several
    windows keeps only the last one's gradient."""
    padded = ref._pad(x, padding, -np.inf)
    N, C, H, W = x.shape
    P, Q = dy.shape[2:]
    dpadded = np.zeros(padded.shape)
    for n in range(N):
        for c in range(C):
            for i in range(P):
                for j in range(Q):
                    window = padded[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dpadded[n, c, i * stride + r, j * stride + s] = dy[n, c, i, j]
    return dpadded[:, :, padding:padding + H, padding:padding + W]


# 10 ----------------------------------------------------------------------------------------

def layernorm_over_the_batch(x, gamma, beta, eps):
    """Batch norm instead: each column standardised over the rows."""
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta


def layernorm_unbiased_variance(x, gamma, beta, eps):
    """The variance divided by D - 1 (``np.var(..., ddof=1)``) instead of D."""
    var = x.var(axis=1, ddof=1, keepdims=True)
    return gamma * (x - x.mean(axis=1, keepdims=True)) / np.sqrt(var + eps) + beta


def layernorm_eps_outside_the_root(x, gamma, beta, eps):
    """(x - mean) / (std + eps) instead of (x - mean) / sqrt(var + eps)."""
    return gamma * (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + eps) + beta


def layernorm_dx_with_constant_statistics(dy, x, gamma, beta, eps):
    """dx as if the row's mean and variance did not depend on x."""
    return dy * gamma / np.sqrt(x.var(axis=1, keepdims=True) + eps)


def layernorm_dx_without_the_variance(dy, x, gamma, beta, eps):
    """dx with the path through the mean but not the one through the variance."""
    g = dy * gamma
    return (g - g.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)


def layernorm_dgamma_with_x(dy, x, gamma, beta, eps):
    """dgamma = sum(dy * x): the raw input where the normalised x_hat belongs."""
    return (dy * x).sum(axis=0)


def residual_without_the_skip(x, W1, b1, W2, b2):
    """F(x) alone: the input is not added back."""
    return ref.residual_block_forward(x, W1, b1, W2, b2) - x


def residual_dx_without_the_skip(dy, x, W1, b1, W2, b2):
    """dx through F only, without the dy that the skip carries straight to x."""
    return ref.residual_block_backward(dy, x, W1, b1, W2, b2)[0] - dy


def residual_dx_without_the_relu(dy, x, W1, b1, W2, b2):
    """dx as if the ReLU passed the gradient everywhere (its mask left out)."""
    return dy + dy @ W2.T @ W1.T


# 11 ----------------------------------------------------------------------------------------

def positions_sines_then_cosines(T, D):
    """All the sines first, then all the cosines, instead of sine and cosine interleaved."""
    table = ref.sinusoidal_positions(T, D)
    return np.concatenate([table[:, 0::2], table[:, 1::2]], axis=1)


def positions_frequency_per_column(T, D):
    """Every column its own frequency, 10000**(column / D), instead of one per pair of columns."""
    angles = np.arange(T)[:, None] / 10000 ** (np.arange(D) / D)
    return np.where(np.arange(D) % 2 == 0, np.sin(angles), np.cos(angles))


def attention_without_the_scale(q, k, v, causal):
    """Scores q . k, not divided by sqrt(d)."""
    return ref.attention_forward(q * np.sqrt(q.shape[2]), k, v, causal)


def attention_without_the_mask(q, k, v, causal):
    """The causal mask left out: every query also sees the keys after it."""
    return ref.attention_forward(q, k, v, False)


def _attention_weights(q, k, causal, axis):
    """softmax(q k^T / sqrt(d)), masked if causal, normalised along ``axis`` of the (N, T, T) scores."""
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[2])
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[1:], bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return weights / weights.sum(axis=axis, keepdims=True)


def attention_softmax_over_the_queries(q, k, v, causal):
    """The softmax taken down each column of the (T, T) scores (over the queries) instead of along each row."""
    return _attention_weights(q, k, causal, axis=1) @ v


def attention_dq_without_the_scale(dout, q, k, v, causal):
    """dq without the 1 / sqrt(d) of the scores."""
    return ref.attention_backward(dout, q, k, v, causal)[0] * np.sqrt(q.shape[2])


def attention_dk_without_the_scale(dout, q, k, v, causal):
    """dk without the 1 / sqrt(d) of the scores."""
    return ref.attention_backward(dout, q, k, v, causal)[1] * np.sqrt(q.shape[2])


def attention_dv_with_the_weights_untransposed(dout, q, k, v, causal):
    """dv = P @ dout instead of P^T @ dout."""
    return _attention_weights(q, k, causal, axis=2) @ dout


# 14 ----------------------------------------------------------------------------------------

def tanh_backward_tanh_twice(dout, out):
    return dout * (1 - np.tanh(out) ** 2)


def unbroadcast_leading_axes_only(grad, shape):
    return grad.sum(axis=tuple(range(grad.ndim - len(shape))))


def sum_backward_axes_not_restored(dout, input_shape, axis, keepdims):
    return np.broadcast_to(dout, input_shape).copy()  # a ValueError where the shapes do not fit: not this mistake
