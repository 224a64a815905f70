"""Reference answers for the graded exercises, written in plain vectorized NumPy.

The grader and ``check`` compare a learner's function with these. They are written
independently of the exercise solutions (vectorized where the exercises ask for loops) so that
a mistake copied into a solution notebook does not also hide in the oracle. Conventions match the
exercise docstrings: NCHW images, weights (K, C, R, S), cross-correlation, batch-mean losses.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


# 01 sigmoid and logistic regression ---------------------------------------------------------

def sigmoid(z):
    """Elementwise 1 / (1 + exp(-z)), without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def binary_cross_entropy_with_logits(z, y):
    """Mean binary cross-entropy of labels y (N,) in {0, 1} under p = sigmoid(z), from the logits
    z (N,), and dL/dz (N,). Exact for any float64 z: -[y log p + (1-y) log(1-p)] = log(1 + e^z) - y z."""
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    return loss, (sigmoid(z) - y) / len(y)


def logistic_regression_step(w, b, X, y, learning_rate, weight_decay):
    """One gradient-descent step on mean binary cross-entropy + weight_decay / 2 * ||w||^2 (the bias
    is not decayed). X (N, D), y (N,) in {0, 1}, w (D,), b scalar.

    Returns (w_new, b_new, loss) with the loss measured before the step.
    """
    cross_entropy, dlogits = binary_cross_entropy_with_logits(X @ w + b, y)
    loss = cross_entropy + 0.5 * weight_decay * np.sum(w ** 2)
    return w - learning_rate * (X.T @ dlogits + weight_decay * w), b - learning_rate * dlogits.sum(), loss


# 02 perceptron ------------------------------------------------------------------------------

def geometric_margin(w, b, X, y):
    """The smallest signed distance y_i (w . x_i + b) / ||w|| of a row of X (N, D) from the boundary;
    negative when some row is on the wrong side."""
    return np.min(y * (X @ w + b)) / np.linalg.norm(w)


def pocket_perceptron(X, y, epochs, learning_rate):
    """The perceptron rule from w = 0, b = 0 for ``epochs`` passes over the rows in order, keeping in
    its "pocket" the (w, b) with the fewest training errors (rows with y_i (w . x_i + b) <= 0) seen
    at the start or after any update; the first such in a tie.

    Returns (w, b, errors) of the pocket.
    """
    w, b = np.zeros(X.shape[1]), 0.0

    def errors_of(w, b):
        return int(np.sum(y * (X @ w + b) <= 0))

    pocket = (w, b, errors_of(w, b))
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ w + b) <= 0:
                w, b = w + learning_rate * y_i * x_i, b + learning_rate * y_i
                errors = errors_of(w, b)
                if errors < pocket[2]:
                    pocket = (w, b, errors)
    return pocket


# 03 backpropagation -------------------------------------------------------------------------

def dense_backward(dout, x, w, b):
    """Gradients of y = x @ w + b. dout (N, M), x (N, D), w (D, M) -> (dx, dw, db)."""
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def dense_tanh_backward(dout, x, w, b):
    """Gradients of y = tanh(x @ w + b). dout (N, M), x (N, D), w (D, M) -> (dx, dw, db)."""
    y = np.tanh(x @ w + b)
    return dense_backward(dout * (1.0 - y ** 2), x, w, b)


def softmax_cross_entropy(scores, y):
    """Mean cross-entropy of integer labels y (N,) under softmax(scores (N, K)), and d/dscores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(y)
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1.0
    return loss, dscores / n


def mlp3_loss_and_grads(X, y, W1, b1, W2, b2, W3, b3):
    """Three-layer net: scores = tanh(tanh(X @ W1 + b1) @ W2 + b2) @ W3 + b3, softmax cross-entropy.

    Returns (loss, dW1, db1, dW2, db2, dW3, db3).
    """
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    loss, dscores = softmax_cross_entropy(h2 @ W3 + b3, y)
    dh2, dW3, db3 = dense_backward(dscores, h2, W3, b3)
    dh1, dW2, db2 = dense_tanh_backward(dh2, h1, W2, b2)
    _, dW1, db1 = dense_tanh_backward(dh1, X, W1, b1)
    return loss, dW1, db1, dW2, db2, dW3, db3


# 04 convolution -----------------------------------------------------------------------------

def _pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=value)


def _windows(x, height, width, stride):
    """View of x (N, C, H, W) as (N, C, P, Q, height, width) windows taken every ``stride``."""
    return sliding_window_view(x, (height, width), axis=(2, 3))[:, :, ::stride, ::stride]


def conv2d(x, w, b, stride=1, padding=0):
    """Cross-correlation. x (N, C, H, W), w (K, C, R, S), b (K,) -> y (N, K, P, Q)."""
    windows = _windows(_pad(x, padding), w.shape[2], w.shape[3], stride)
    return np.einsum("ncpqrs,kcrs->nkpq", windows, w) + b[None, :, None, None]


def conv2d_backward(dy, x, w, stride=1, padding=0):
    """Gradients of conv2d: dy (N, K, P, Q) -> (dx, dw, db) shaped like x, w and (K,)."""
    padded = _pad(x, padding)
    _, _, R, S = w.shape
    P, Q = dy.shape[2:]
    dw = np.einsum("ncpqrs,nkpq->kcrs", _windows(padded, R, S, stride), dy)
    dpadded = np.zeros_like(padded)
    patch_grads = np.einsum("nkpq,kcrs->ncpqrs", dy, w)
    for r in range(R):  # scatter-add every kernel tap; windows overlap so this must accumulate
        for s in range(S):
            dpadded[:, :, r:r + stride * P:stride, s:s + stride * Q:stride] += patch_grads[..., r, s]
    H, W = x.shape[2:]
    return dpadded[:, :, padding:padding + H, padding:padding + W], dw, dy.sum(axis=(0, 2, 3))


# 05 pooling ---------------------------------------------------------------------------------

def max_pool(x, size, stride, padding=0):
    """Max over size x size windows taken every ``stride`` of x (N, C, H, W) padded with ``padding``
    rows and columns of -inf on each side (padding never wins) -> (N, C, P, Q)."""
    return _windows(_pad(x, padding, -np.inf), size, size, stride).max(axis=(4, 5))


def max_pool_backward(dy, x, size, stride, padding=0):
    """Route each dy element to the arg-max of its window; overlapping windows accumulate."""
    padded = _pad(x, padding, -np.inf)
    windows = _windows(padded, size, size, stride)
    N, C, P, Q = windows.shape[:4]
    flat_arg = windows.reshape(N, C, P, Q, size * size).argmax(axis=4)
    rows = np.arange(P)[:, None] * stride + flat_arg // size
    cols = np.arange(Q)[None, :] * stride + flat_arg % size
    dpadded = np.zeros(padded.shape)
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    np.add.at(dpadded, (n[:, :, None, None], c[:, :, None, None], rows, cols), dy)
    H, W = x.shape[2:]
    return dpadded[:, :, padding:padding + H, padding:padding + W]


def avg_pool_backward(dy, x, size, stride):
    """Gradient of average pooling (no padding): every input of a window gets dy / size**2 of it;
    overlapping windows accumulate. dy (N, C, P, Q), x (N, C, H, W) -> dx (N, C, H, W)."""
    dx = np.zeros(x.shape)
    P, Q = dy.shape[2:]
    for r in range(size):  # one shifted slice per window tap: every window adds to it at once
        for s in range(size):
            dx[:, :, r:r + stride * P:stride, s:s + stride * Q:stride] += dy / size ** 2
    return dx


# 06 a small CNN -----------------------------------------------------------------------------

def conv_output_size(size, window, stride, padding):
    """Positions of a window along one axis: (size + 2*padding - window) // stride + 1."""
    return (size + 2 * padding - window) // stride + 1


def cnn_output_shapes(input_shape, layers):
    """Shape after every layer of a spec such as ("conv", K, R, stride, padding),
    ("pool", size, stride), ("flatten",) or ("dense", M)."""
    shape = tuple(input_shape)
    shapes = []
    for kind, *args in layers:
        if kind == "conv":
            channels, window, stride, padding = args
            n, _, h, w = shape
            shape = (n, channels, conv_output_size(h, window, stride, padding),
                     conv_output_size(w, window, stride, padding))
        elif kind == "pool":
            size, stride = args
            n, c, h, w = shape
            shape = (n, c, conv_output_size(h, size, stride, 0), conv_output_size(w, size, stride, 0))
        elif kind == "flatten":
            shape = (shape[0], int(np.prod(shape[1:])))
        elif kind == "dense":
            shape = (shape[0], args[0])
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        shapes.append(shape)
    return shapes


def cnn_training_step(x, y, w_conv, b_conv, w_dense, b_dense, learning_rate):
    """conv 3x3 (padding 1) -> relu -> max-pool 2 -> flatten -> dense -> softmax cross-entropy,
    then one SGD step. Returns (loss, w_conv, b_conv, w_dense, b_dense) after the step."""
    pre = conv2d(x, w_conv, b_conv, stride=1, padding=1)
    act = np.maximum(pre, 0.0)
    pooled = max_pool(act, 2, 2)
    flat = pooled.reshape(len(x), -1)
    loss, dscores = softmax_cross_entropy(flat @ w_dense + b_dense, y)
    dflat, dw_dense, db_dense = dense_backward(dscores, flat, w_dense, b_dense)
    dact = max_pool_backward(dflat.reshape(pooled.shape), act, 2, 2)
    _, dw_conv, db_conv = conv2d_backward(dact * (pre > 0), x, w_conv, stride=1, padding=1)
    return (loss, w_conv - learning_rate * dw_conv, b_conv - learning_rate * db_conv,
            w_dense - learning_rate * dw_dense, b_dense - learning_rate * db_dense)


# 07 inception -------------------------------------------------------------------------------

def inception_forward(x, params):
    """GoogLeNet's inception module; every convolution is followed by a ReLU.

    params maps "1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj" to (w, b).
    Branches, concatenated on channels in this order: 1x1; 1x1 -> 3x3 (padding 1);
    1x1 -> 5x5 (padding 2); 3x3 max-pool (stride 1, padding 1) -> 1x1.
    """
    def conv_relu(inputs, name, padding=0):
        w, b = params[name]
        return np.maximum(conv2d(inputs, w, b, 1, padding), 0.0)

    pooled = max_pool(_pad(x, 1, -np.inf), 3, 1)
    return np.concatenate([
        conv_relu(x, "1x1"),
        conv_relu(conv_relu(x, "3x3_reduce"), "3x3", 1),
        conv_relu(conv_relu(x, "5x5_reduce"), "5x5", 2),
        conv_relu(pooled, "pool_proj"),
    ], axis=1)


def concat_channels_backward(dy, channels):
    """Split dy (N, sum(channels), H, W) back into one gradient per concatenated input."""
    return tuple(np.split(dy, np.cumsum(channels)[:-1], axis=1))


def inception_param_count(in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
    """Weights plus biases of the module's six convolutions."""
    def conv(c_in, c_out, k):
        return c_out * c_in * k * k + c_out

    return (conv(in_channels, c1, 1) + conv(in_channels, c3_reduce, 1) + conv(c3_reduce, c3, 3)
            + conv(in_channels, c5_reduce, 1) + conv(c5_reduce, c5, 5) + conv(in_channels, pool_proj, 1))


# 08 LSTM ------------------------------------------------------------------------------------
# The library's layout (nutshell_lib.layers.LSTM, PyTorch's): W_ih (4H, D), W_hh (4H, H), b (4H,),
# gate blocks i, f, g, o; sequences batch-first, x (N, T, D).

def _lstm_gates(x, h_prev, W_ih, W_hh, b):
    """The four gates after their nonlinearities, each (N, H): i, f, g, o."""
    i, f, g, o = np.split(x @ W_ih.T + h_prev @ W_hh.T + b, 4, axis=1)
    return sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)


def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b):
    """One step: x (N, D), h_prev and c_prev (N, H) -> (h, c), both (N, H)."""
    i, f, g, o = _lstm_gates(x, h_prev, W_ih, W_hh, b)
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def lstm_cell_backward(dh, dc, x, h_prev, c_prev, W_ih, W_hh, b):
    """Gradients of lstm_cell_forward given dL/dh and dL/dc (N, H).

    Returns (dx, dh_prev, dc_prev, dW_ih, dW_hh, db).
    """
    i, f, g, o = _lstm_gates(x, h_prev, W_ih, W_hh, b)
    tanh_c = np.tanh(f * c_prev + i * g)
    dc_total = dc + dh * o * (1.0 - tanh_c ** 2)
    da = np.concatenate([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                         dc_total * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
    return da @ W_ih, da @ W_hh, dc_total * f, da.T @ x, da.T @ h_prev, da.sum(axis=0)


def lstm_forward(x, h0, c0, W_ih, W_hh, b):
    """The cell over a sequence: x (N, T, D), h0 and c0 (N, H) -> all hidden states (N, T, H)."""
    h, c, hs = h0, c0, []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c, W_ih, W_hh, b)
        hs.append(h)
    return np.stack(hs, axis=1)


def lstm_backward(dhs, x, h0, c0, W_ih, W_hh, b):
    """Backpropagation through time for lstm_forward, given dL/dhs (N, T, H) for every step's h.

    Returns (dx (N, T, D), dh0, dc0 (N, H), dW_ih, dW_hh, db); the weights' gradients add up over steps.
    """
    states = [(h0, c0)]
    for t in range(x.shape[1]):
        states.append(lstm_cell_forward(x[:, t], *states[-1], W_ih, W_hh, b))
    dx = np.zeros_like(x, dtype=np.float64)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b)
    dh, dc = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dh, dc, dWi, dWh, dbt = lstm_cell_backward(dhs[:, t] + dh, dc, x[:, t], *states[t], W_ih, W_hh, b)
        dW_ih, dW_hh, db = dW_ih + dWi, dW_hh + dWh, db + dbt
    return dx, dh, dc, dW_ih, dW_hh, db


# 09 training in practice --------------------------------------------------------------------

def clip_grad_norm(grads, max_norm):
    """Rescale a list of gradient arrays together so their global L2 norm is at most ``max_norm``.

    The factor is max_norm / (norm + 1e-6), applied only when it is below 1 (PyTorch's rule).
    Returns (clipped gradients, a list shaped like ``grads``; the norm before clipping).
    """
    norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
    factor = min(1.0, max_norm / (norm + 1e-6))
    return [g * factor for g in grads], norm


def adam_step(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    """One Adam update (Kingma & Ba 2015), t counting steps from 1. Returns (param, m, v) after it."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


def batchnorm_forward(x, gamma, beta, eps):
    """Training-mode batch norm of x (N, D) with the batch's mean and (biased) variance per feature."""
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return gamma * x_hat + beta


def batchnorm_backward(dout, x, gamma, beta, eps):
    """Gradients of batchnorm_forward given dout (N, D): (dx, dgamma, dbeta).

    The chain rule stage by stage: the mean and the variance both depend on every input.
    """
    n = len(x)
    centred = x - x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(np.mean(centred ** 2, axis=0) + eps)
    dx_hat = dout * gamma
    dvar = -0.5 * inv_std ** 3 * np.sum(dx_hat * centred, axis=0)
    dmean = -inv_std * np.sum(dx_hat, axis=0) - 2.0 * dvar * np.mean(centred, axis=0)
    dx = dx_hat * inv_std + dvar * 2.0 * centred / n + dmean / n
    return dx, np.sum(dout * centred * inv_std, axis=0), np.sum(dout, axis=0)


# 10 normalisation and residual connections --------------------------------------------------

def layernorm_forward(x, gamma, beta, eps):
    """Layer norm over the last axis: x (N, D), gamma and beta (D,) -> y (N, D).

    Each row is standardised with its own mean and (biased) variance, then scaled and shifted:
    y = gamma * (x - mean) / sqrt(var + eps) + beta.
    """
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    return gamma * (x - mean) * inv_std + beta


def layernorm_backward(dy, x, gamma, beta, eps):
    """Gradients of layernorm_forward: dy (N, D) -> (dx (N, D), dgamma (D,), dbeta (D,)).

    The mean and variance of a row depend on every entry of the row, so dx is the projection of
    g = dy * gamma that removes the row mean of g and its component along x_hat, scaled by 1/std.
    """
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=1, keepdims=True)) * inv_std
    g = dy * gamma
    dx = inv_std * (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True))
    return dx, (dy * x_hat).sum(axis=0), dy.sum(axis=0)


def residual_block_forward(x, W1, b1, W2, b2):
    """y = x + relu(x @ W1 + b1) @ W2 + b2 with x (N, D), W1 (D, H), b1 (H,), W2 (H, D), b2 (D,)."""
    return x + np.maximum(x @ W1 + b1, 0.0) @ W2 + b2


def residual_block_backward(dy, x, W1, b1, W2, b2):
    """Gradients of residual_block_forward: dy (N, D) -> (dx, dW1, db1, dW2, db2).

    The skip adds dy itself to the gradient that comes back through the two dense layers.
    """
    pre = x @ W1 + b1
    dhidden, dW2, db2 = dense_backward(dy, np.maximum(pre, 0.0), W2, b2)
    dx_body, dW1, db1 = dense_backward(dhidden * (pre > 0), x, W1, b1)
    return dy + dx_body, dW1, db1, dW2, db2


# 11 attention --------------------------------------------------------------------------------
# Written with a loop over the batch and the query positions, one softmax row at a time, so that
# it shares nothing with a batched matrix-product solution.

def _attention_row(q_i, k, i, causal):
    """Softmax weights (T,) of query q_i (d,) over the keys k (T, d); under ``causal`` only keys 0..i."""
    visible = k[: i + 1] if causal else k
    scores = visible @ q_i / np.sqrt(q_i.shape[0])
    weights = np.exp(scores - scores.max())
    row = np.zeros(k.shape[0])
    row[: len(visible)] = weights / weights.sum()
    return row


def attention_forward(q, k, v, causal):
    """Scaled dot-product attention. q, k (N, T, d), v (N, T, dv) -> out (N, T, dv): out[n, i] is the
    average of the values v[n, j] weighted by softmax_j(q[n, i] . k[n, j] / sqrt(d)), over j <= i if causal."""
    N, T, _ = q.shape
    out = np.zeros(v.shape)
    for n in range(N):
        for i in range(T):
            out[n, i] = _attention_row(q[n, i], k[n], i, causal) @ v[n]
    return out


def attention_backward(dout, q, k, v, causal):
    """Gradients (dq, dk, dv), shaped like q, k, v, of sum(attention_forward(q, k, v, causal) * dout),
    dout (N, T, dv)."""
    N, T, d = q.shape
    dq, dk, dv = np.zeros(q.shape), np.zeros(k.shape), np.zeros(v.shape)
    for n in range(N):
        for i in range(T):
            p = _attention_row(q[n, i], k[n], i, causal)
            dp = v[n] @ dout[n, i]                   # dL/dp_j = dout_i . v_j
            dscore = p * (dp - p @ dp)               # through the softmax; zero where p is masked
            dq[n, i] = dscore @ k[n] / np.sqrt(d)
            dk[n] += np.outer(dscore, q[n, i]) / np.sqrt(d)
            dv[n] += np.outer(p, dout[n, i])
    return dq, dk, dv


def sinusoidal_positions(T, D):
    """(T, D) positional encodings: column 2i is sin(t / 10000^(2i/D)), column 2i + 1 its cos."""
    table = np.zeros((T, D))
    for t in range(T):
        for column in range(D):
            angle = t / 10000 ** ((column - column % 2) / D)
            table[t, column] = np.sin(angle) if column % 2 == 0 else np.cos(angle)
    return table


# 12 generative models -----------------------------------------------------------------------

def reparameterize_backward(dz, eps, log_var):
    """Gradients of z = mu + exp(log_var / 2) * eps given dL/dz, all arrays one shape (N, L).

    Returns (dmu, dlog_var): dz, and dz * eps * sigma / 2 with sigma = exp(log_var / 2).
    """
    sigma = np.exp(0.5 * log_var)
    return np.array(dz, dtype=np.float64), 0.5 * dz * eps * sigma


def vae_loss(x, logits, mu, log_var):
    """A VAE's negative ELBO per example, averaged over the batch, and its gradients.

    x (N, D) pixels in [0, 1]; logits (N, D) the decoder's outputs, p = sigmoid(logits);
    mu, log_var (N, L) the encoder's Gaussian. loss = (1/N) sum_n [sum_d BCE(logits, x)
    + 1/2 sum_j (mu^2 + exp(log_var) - 1 - log_var)], with BCE = log(1 + e^z) - x z.
    Returns (loss, dlogits (N, D), dmu (N, L), dlog_var (N, L)).
    """
    n = x.shape[0]
    reconstruction = np.sum(np.logaddexp(0.0, logits) - x * logits)
    variance = np.exp(log_var)
    kl = -0.5 * np.sum(1.0 + log_var - mu ** 2 - variance)
    return (reconstruction + kl) / n, (sigmoid(logits) - x) / n, mu / n, 0.5 * (variance - 1.0) / n


# 14 automatic differentiation ---------------------------------------------------------------

def tanh_backward(dout, out):
    """Gradient of out = tanh(x) given dL/dout, from the output alone: dout * (1 - out**2)."""
    return dout * (1.0 - out * out)


def matmul_backward(dout, a, b):
    """Gradients of out = a @ b: dout (N, M), a (N, D), b (D, M) -> (da (N, D), db (D, M))."""
    return np.einsum("nm,dm->nd", dout, b), np.einsum("nd,nm->dm", a, dout)


def unbroadcast(grad, shape):
    """Sum grad, the gradient of a broadcast result, down to ``shape``, a shape that broadcasts to grad's.

    The axes that broadcasting added in front and the axes where ``shape`` has size 1 (and grad
    does not) are summed; the result has exactly ``shape``.
    """
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    stretched = [extra + axis for axis, size in enumerate(shape) if size == 1 and grad.shape[extra + axis] != 1]
    return np.sum(grad, axis=tuple(range(extra)) + tuple(stretched)).reshape(shape)


def mul_backward(dout, a, b):
    """Gradients of out = a * b, with NumPy broadcasting: dout has the broadcast shape -> (da, db)."""
    return unbroadcast(dout * b, np.shape(a)), unbroadcast(dout * a, np.shape(b))


def sum_backward(dout, input_shape, axis, keepdims):
    """Gradient of out = x.sum(axis=axis, keepdims=keepdims) for x of ``input_shape``.

    axis: None (every axis), an int or a tuple of ints, negative ones counting from the end.
    Every summed entry has slope 1, so dx is dout copied along the summed axes.
    """
    ndim = len(input_shape)
    axes = range(ndim) if axis is None else [a % ndim for a in np.atleast_1d(axis)]
    kept_shape = [1 if i in axes else n for i, n in enumerate(input_shape)]
    return np.broadcast_to(np.reshape(dout, kept_shape), tuple(input_shape)).copy()


def topological_order(nodes, root):
    """The nodes ``root`` depends on (root included), in depth-first post-order.

    nodes: list of dicts with "inputs" (indices of other nodes). Parents are visited in the order
    of "inputs", each node once, and a node is listed after all its parents. Returns node indices.
    Written with an explicit stack, so it is independent of a recursive solution.
    """
    order, seen = [], {root}
    stack = [(root, iter(nodes[root]["inputs"]))]
    while stack:
        node, parents = stack[-1]
        parent = next(parents, None)
        if parent is None:
            stack.pop()
            order.append(node)
        elif parent not in seen:
            seen.add(parent)
            stack.append((parent, iter(nodes[parent]["inputs"])))
    return order


def _graph_node_backward(node, dout, values):
    """One node's backward rule: its inputs' shares of dL/d(node), in the order of node["inputs"]."""
    op, inputs = node["op"], node["inputs"]
    if op == "input":
        return []
    if op == "add":
        return [unbroadcast(dout, np.shape(values[i])) for i in inputs]
    if op == "mul":
        return list(mul_backward(dout, values[inputs[0]], values[inputs[1]]))
    if op == "matmul":
        return list(matmul_backward(dout, values[inputs[0]], values[inputs[1]]))
    if op == "tanh":
        return [tanh_backward(dout, np.tanh(values[inputs[0]]))]
    if op == "sum":
        return [sum_backward(dout, np.shape(values[inputs[0]]), node["axis"], node["keepdims"])]
    raise ValueError(f"unknown op {op!r}")


def backward_pass(nodes, values, root):
    """dL/d(node) for every node of a graph, L = values[root] (a scalar).

    nodes: list of dicts {"op": "input" | "add" | "mul" | "matmul" | "tanh" | "sum", "inputs": [indices]}
    ("sum" also has "axis" and "keepdims"); values: the forward value of every node. Returns a
    list with one gradient per node, shaped like its value; zeros for nodes L does not depend on.
    Processed in Kahn's order (a node once all of its users have sent their shares), independent
    of the depth-first order a solution uses.
    """
    grads = [np.zeros(np.shape(v)) for v in values]
    grads[root] = np.ones(np.shape(values[root]))
    reachable = set(topological_order(nodes, root))
    pending = {i: 0 for i in reachable}
    for i in reachable:
        for parent in nodes[i]["inputs"]:
            pending[parent] += 1
    ready = [root]
    while ready:
        i = ready.pop()
        for parent, share in zip(nodes[i]["inputs"], _graph_node_backward(nodes[i], grads[i], values)):
            grads[parent] = grads[parent] + share
            pending[parent] -= 1
            if pending[parent] == 0:
                ready.append(parent)
    return grads


# 13 transfer learning -----------------------------------------------------------------------

def relative_change(before, after):
    """||after_i - before_i|| / ||before_i|| (Frobenius norms) for each pair of arrays, as an array (n,)."""
    return np.array([np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b))
                     for b, a in zip(before, after)])


def train_head(features, y, W, b, learning_rate, steps):
    """``steps`` full-batch gradient-descent steps of a softmax classifier scores = features @ W + b
    (features (N, D) fixed, W (D, K), b (K,), y (N,) integer labels) on the mean cross-entropy.
    Returns the new (W, b)."""
    W, b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
    one_hot = np.eye(W.shape[1])[y]
    for _ in range(steps):
        scores = features @ W + b
        log_p = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
        dscores = (np.exp(log_p) - one_hot) / len(y)
        W, b = W - learning_rate * features.T @ dscores, b - learning_rate * dscores.sum(axis=0)
    return W, b
