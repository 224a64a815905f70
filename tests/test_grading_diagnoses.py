"""Feedback that names the outputs and recognises common mistakes: each mistake is planted here the way a
learner would write it, fed to ``check``, and must produce its own sentence; right answers get none."""
import numpy as np
import pytest

from nutshell_lib.grading import check
from nutshell_lib.grading import reference as ref
from nutshell_lib.grading.compare import compare
from nutshell_lib.grading.questions import EXERCISES, QUESTIONS

from test_grading_reference import breadth_first_order  # a valid order that is not depth-first

FIRST_FIVE = [q.name for name, exercise in EXERCISES.items() if name < "06" for q in exercise.questions]


def pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=value)


# 01 ----------------------------------------------------------------------------------------

def sigmoid_inf_over_inf(z):
    return np.exp(z) / (1 + np.exp(z))


def cross_entropy_naive(z, y):
    p = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / len(y)


def cross_entropy_clipped(z, y):
    p = np.clip(ref.sigmoid(z), 1e-12, 1 - 1e-12)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / len(y)


def cross_entropy_summed_gradient(z, y):
    return ref.binary_cross_entropy_with_logits(z, y)[0], ref.sigmoid(z) - y


def cross_entropy_gradient_reversed(z, y):
    return ref.binary_cross_entropy_with_logits(z, y)[0], (y - ref.sigmoid(z)) / len(y)


def step(w, b, X, y, lr, decay, *, decay_w=True, decay_b=False, penalty=True, sign=1.0):
    p = ref.sigmoid(X @ w + b)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + (decay / 2 * w @ w if penalty else 0.0)
    dw = X.T @ (p - y) / len(y) + (decay * w if decay_w else 0.0)
    db = np.mean(p - y) + (decay * b if decay_b else 0.0)
    return w - sign * lr * dw, b - sign * lr * db, loss


def step_loss_after(w, b, X, y, lr, decay):
    w_new, b_new, _ = step(w, b, X, y, lr, decay)
    return w_new, b_new, step(w_new, b_new, X, y, lr, decay)[2]


# 02 ----------------------------------------------------------------------------------------

def pocket_aliased(X, y, epochs, lr, *, ties=False):
    w, b = np.zeros(X.shape[1]), 0.0
    best_w, best_b, best_errors = w, b, len(y)  # the bug: best_w is the same array as w
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            if y_i * (x_i @ w + b) <= 0:
                w += lr * y_i * x_i
                b += lr * y_i
                errors = int(np.sum(y * (X @ w + b) <= 0))
                if errors < best_errors or (ties and errors == best_errors):
                    best_w, best_b, best_errors = w if not ties else w.copy(), b, errors
    return best_w, best_b, best_errors


# 03 ----------------------------------------------------------------------------------------

def tanh_layer(dout, x, w, b, *, slope=lambda y, z: 1 - y ** 2, sum_db=True, transpose_dw=False):
    z = x @ w + b
    dz = dout * slope(np.tanh(z), z)
    dw = dz.T @ x if transpose_dw else x.T @ dz
    return dz @ w.T, dw, dz.sum(axis=0) if sum_db else dz


def mlp3(X, y, W1, b1, W2, b2, W3, b3, *, extra_divide=1, transpose=False, first_slope=True):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    loss, dscores = ref.softmax_cross_entropy(h2 @ W3 + b3, y)
    dscores = dscores / extra_divide
    dz2 = dscores @ W3.T * (1 - h2 ** 2)
    dz1 = dz2 @ W2.T * ((1 - h1 ** 2) if first_slope else 1.0)
    grads = [X.T @ dz1, dz1.sum(0), h1.T @ dz2, dz2.sum(0), h2.T @ dscores, dscores.sum(0)]
    if transpose:
        grads[2] = grads[2].T
    return (loss, *grads)


# 04 ----------------------------------------------------------------------------------------

def conv_loops(x, w, b, stride=1, padding=0, *, flip=False, bias=True, use_stride=True, use_padding=True):
    stride, padding = (stride if use_stride else 1), (padding if use_padding else 0)
    w = w[:, :, ::-1, ::-1] if flip else w
    x_pad = pad(x, padding)
    K, _, R, S = w.shape
    P, Q = (x_pad.shape[2] - R) // stride + 1, (x_pad.shape[3] - S) // stride + 1
    y = np.zeros((len(x), K, P, Q))
    for i in range(P):
        for j in range(Q):
            window = x_pad[:, None, :, i * stride:i * stride + R, j * stride:j * stride + S]
            y[:, :, i, j] = np.sum(window * w, axis=(2, 3, 4)) + (b if bias else 0)
    return y


def conv_backward_loops(dy, x, w, stride=1, padding=0, *, assign=False, crop=True, sum_db=True):
    x_pad = pad(x, padding)
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    K, _, R, S = w.shape
    for n in range(len(x)):
        for k in range(K):
            for i in range(dy.shape[2]):
                for j in range(dy.shape[3]):
                    rows, cols = slice(i * stride, i * stride + R), slice(j * stride, j * stride + S)
                    if assign:
                        dx_pad[n, :, rows, cols] = dy[n, k, i, j] * w[k]
                    else:
                        dx_pad[n, :, rows, cols] += dy[n, k, i, j] * w[k]
                    dw[k] += dy[n, k, i, j] * x_pad[n, :, rows, cols]
    H, W = x.shape[2:]
    dx = dx_pad[:, :, padding:padding + H, padding:padding + W] if crop else dx_pad
    return dx, dw, dy.sum(axis=(0, 2, 3)) if sum_db else dy.sum(axis=(2, 3))


def conv_backward_dx_filters_summed_assigned(dy, x, w, stride=1, padding=0):
    x_pad = pad(x, padding)
    dx_pad = np.zeros_like(x_pad)
    _, _, R, S = w.shape
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            dx_pad[:, :, i * stride:i * stride + R, j * stride:j * stride + S] = np.tensordot(dy[:, :, i, j], w, axes=1)
    H, W = x.shape[2:]
    _, dw, db = ref.conv2d_backward(dy, x, w, stride, padding)
    return dx_pad[:, :, padding:padding + H, padding:padding + W], dw, db


# 05 ----------------------------------------------------------------------------------------

def avg_backward_loops(dy, x, size, stride, *, assign=False, divide=True):
    dx = np.zeros(x.shape)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            share = dy[:, :, i, j, None, None] / (size ** 2 if divide else 1)
            window = (slice(None), slice(None), slice(i * stride, i * stride + size), slice(j * stride, j * stride + size))
            if assign:
                dx[window] = share
            else:
                dx[window] += share
    return dx


def max_pool_loops(x, size, stride, padding, *, fill=-np.inf, use_padding=True):
    padding = padding if use_padding else 0
    x_pad = pad(x, padding, fill)
    P, Q = (x_pad.shape[2] - size) // stride + 1, (x_pad.shape[3] - size) // stride + 1
    y = np.zeros(x.shape[:2] + (P, Q))
    for i in range(P):
        for j in range(Q):
            y[:, :, i, j] = x_pad[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
    return y


def max_backward_loops(dy, x, size, stride, padding, *, fill=-np.inf, assign=False, crop=True):
    x_pad = pad(x, padding, fill)
    dx_pad = np.zeros(x_pad.shape)
    for n, c, i, j in np.ndindex(*dy.shape):
        window = x_pad[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
        r, s = np.unravel_index(np.argmax(window), window.shape)
        if assign:
            dx_pad[n, c, i * stride + r, j * stride + s] = dy[n, c, i, j]
        else:
            dx_pad[n, c, i * stride + r, j * stride + s] += dy[n, c, i, j]
    H, W = x.shape[2:]
    return dx_pad[:, :, padding:padding + H, padding:padding + W] if crop else dx_pad


# 10 ----------------------------------------------------------------------------------------

def layernorm_steps(x, gamma, beta, eps, *, axis=1, ddof=0, eps_outside=False):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    denominator = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return gamma * (x - mean) / denominator + beta


def layernorm_backward_steps(dy, x, gamma, beta, eps, *, through_mean=True, through_var=True, dgamma_of_x=False):
    D = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    inv_std = 1 / np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + eps)
    dx_hat = dy * gamma
    dx = dx_hat * inv_std
    if through_var:
        dvar = -0.5 * inv_std ** 3 * np.sum(dx_hat * centred, axis=1, keepdims=True)
        dx = dx + dvar * 2 * centred / D
    if through_mean:
        dx = dx - inv_std * np.sum(dx_hat, axis=1, keepdims=True) / D
    dgamma = (dy * (x if dgamma_of_x else centred * inv_std)).sum(axis=0)
    return dx, dgamma, dy.sum(axis=0)


def residual_steps(x, W1, b1, W2, b2, *, skip=True):
    return (x if skip else 0.0) + np.maximum(x @ W1 + b1, 0) @ W2 + b2


def residual_backward_steps(dy, x, W1, b1, W2, b2, *, skip=True, mask=True):
    pre = x @ W1 + b1
    dpre = (dy @ W2.T) * ((pre > 0) if mask else 1.0)
    dx = dpre @ W1.T + (dy if skip else 0.0)
    return dx, x.T @ dpre, dpre.sum(axis=0), np.maximum(pre, 0).T @ dy, dy.sum(axis=0)
def vae_loops(x, logits, mu, log_var, *, pixel_mean=False, batch_mean=True, half=0.5):
    """A VAE's loss written example by example, with switches for common mistakes."""
    n, d = x.shape
    loss, dlogits, dmu, dlog_var = 0.0, np.zeros_like(x), np.zeros_like(mu), np.zeros_like(mu)
    for i in range(n):
        bce = np.sum(np.logaddexp(0.0, logits[i]) - x[i] * logits[i])
        loss += (bce / d if pixel_mean else bce) + 0.5 * np.sum(mu[i] ** 2 + np.exp(log_var[i]) - 1 - log_var[i])
        dlogits[i] = 1 / (1 + np.exp(-logits[i])) - x[i]
        dmu[i], dlog_var[i] = mu[i], half * (np.exp(log_var[i]) - 1)
    scale = 1 / n if batch_mean else 1.0
    return loss * scale, dlogits * scale, dmu * scale, dlog_var * scale


def vae_naive(x, logits, mu, log_var):
    """The cross-entropy through log(sigmoid(z)): -inf once sigmoid(z) rounds to 0 or 1."""
    p = 1 / (1 + np.exp(-logits))
    n = len(x)
    loss = (-np.sum(x * np.log(p) + (1 - x) * np.log(1 - p)) + 0.5 * np.sum(mu ** 2 + np.exp(log_var) - 1 - log_var)) / n
    return loss, (p - x) / n, mu / n, 0.5 * (np.exp(log_var) - 1) / n


PLANTED = [  # (question, the learner's wrong function, words of the sentence that must appear)
    ("sigmoid", sigmoid_inf_over_inf, "s contains inf or NaN: exp(z) / (1 + exp(z)) is inf / inf"),
    ("binary_cross_entropy_with_logits", cross_entropy_naive, "loss contains inf or NaN: log(sigmoid(z)) is log(0)"),
    ("binary_cross_entropy_with_logits", cross_entropy_clipped, "clipping p (to 1 - 1e-12, say) caps"),
    ("binary_cross_entropy_with_logits", cross_entropy_summed_gradient, "dz is N times too large, N the batch size: the loss is the mean over the N"),
    ("binary_cross_entropy_with_logits", cross_entropy_gradient_reversed, "dz has the right size but the opposite sign"),
    ("logistic_regression_step", lambda *a: step(*a, decay_w=False), "w_new ignores the weight decay"),
    ("logistic_regression_step", lambda *a: step(*a, decay_b=True), "the bias was decayed too"),
    ("logistic_regression_step", lambda *a: step(*a, penalty=False), "the loss lacks the penalty"),
    ("logistic_regression_step", lambda *a: step(*a, sign=-1.0), "w_new moved uphill"),
    ("logistic_regression_step", step_loss_after, "the loss is measured after the step"),
    ("geometric_margin", lambda w, b, X, y: np.min(y * (X @ w + b)), "not divided by ||w||"),
    ("geometric_margin", lambda w, b, X, y: np.min(np.abs(X @ w + b)) / np.linalg.norm(w), "ignores the labels"),
    ("geometric_margin", lambda w, b, X, y: np.max(y * (X @ w + b)) / np.linalg.norm(w), "the farthest row"),
    ("pocket_perceptron", pocket_aliased, "`best_w = w` is a second name for the array"),
    ("pocket_perceptron", lambda *a: pocket_aliased(*a, ties=True), "in a tie the pocket keeps the first"),
    ("dense_tanh_backward", lambda *a: tanh_layer(*a, slope=lambda y, z: 1.0), "the tanh's slope is missing"),
    ("dense_tanh_backward", lambda *a: tanh_layer(*a, slope=lambda y, z: 1 - np.tanh(y) ** 2), "tanh of the output once more"),
    ("dense_tanh_backward", lambda *a: tanh_layer(*a, transpose_dw=True), "dw is the transpose of the right answer"),
    ("dense_tanh_backward", lambda *a: tanh_layer(*a, sum_db=False), "db has one row per example"),
    ("mlp3_loss_and_grads", lambda X, *a: mlp3(X, *a, extra_divide=len(X)), "dW1 is N times too small, N the batch size: softmax_cross_entropy's dscores"),
    ("mlp3_loss_and_grads", lambda *a: mlp3(*a, transpose=True), "dW2 is the transpose of the right answer"),
    ("mlp3_loss_and_grads", lambda *a: mlp3(*a, first_slope=False), "dW1 misses the first tanh's slope"),
    ("mlp3_loss_and_grads", lambda *a: (lambda loss, *grads: (loss, *(-g for g in grads)))(*mlp3(*a)),
     "dW3 has the right size but the opposite sign"),
    ("conv2d_naive", lambda *a: conv_loops(*a, flip=True), "the true convolution, with the kernel flipped"),
    ("conv2d_naive", lambda *a: conv_loops(*a, bias=False), "the bias is missing"),
    ("conv2d_naive", lambda *a: conv_loops(*a, use_padding=False), "the size of a convolution without padding"),
    ("conv2d_im2col", lambda *a: conv_loops(*a, use_stride=False), "the size for stride 1"),
    ("conv2d_backward_naive", lambda *a: conv_backward_loops(*a, crop=False), "dx still has the padding"),
    ("conv2d_backward_naive", lambda *a: conv_backward_loops(*a, assign=True), "dx looks written with `=`"),
    ("conv2d_backward_naive", lambda *a: conv_backward_loops(*a, sum_db=False), "db sums dy over the batch"),
    ("conv2d_backward_naive", conv_backward_dx_filters_summed_assigned, "dx looks written with `=`"),
    ("avg_pool_backward", lambda *a: avg_backward_loops(*a, assign=True), "dx looks written with `=`"),
    ("avg_pool_backward", lambda *a: avg_backward_loops(*a, divide=False), "dx is size**2 times too large"),
    ("max_pool_padded", lambda *a: max_pool_loops(*a, fill=0.0), "padding with zeros lets a 0 win"),
    ("max_pool_padded", lambda *a: max_pool_loops(*a, use_padding=False), "the size of pooling without padding"),
    ("max_pool_padded_backward", lambda *a: max_backward_loops(*a, crop=False), "dx still has the padding"),
    ("max_pool_padded_backward", lambda *a: max_backward_loops(*a, assign=True), "dx looks written with `=`"),
    ("max_pool_padded_backward", lambda *a: max_backward_loops(*a, fill=0.0), "gradient is missing at the border"),
    ("reparameterize_backward", lambda dz, eps, v: (dz, dz * eps * np.exp(v / 2)), "dlog_var is twice too large"),
    ("reparameterize_backward", lambda dz, eps, v: (dz, dz * eps), "the gradient with respect to sigma, not log_var"),
    ("vae_loss", vae_naive, "loss contains inf or NaN: log(sigmoid(z)) is log(0)"),
    ("vae_loss", lambda *a: vae_loops(*a, pixel_mean=True), "the reconstruction is averaged over the pixels"),
    ("vae_loss", lambda *a: vae_loops(*a, batch_mean=False), "loss is N times too large"),
    ("vae_loss", lambda *a: vae_loops(*a, half=1.0), "dlog_var is twice too large: the KL has 1/2 in front"),
]
PLANTED += [
    ("layernorm_forward", lambda *a: layernorm_steps(*a, axis=0), "y is batch norm"),
    ("layernorm_forward", lambda *a: layernorm_steps(*a, ddof=1), "the variance is divided by D - 1"),
    ("layernorm_forward", lambda *a: layernorm_steps(*a, eps_outside=True), "eps is added to the standard deviation"),
    ("layernorm_backward", lambda *a: layernorm_backward_steps(*a, through_mean=False, through_var=False),
     "treats the row's mean and variance as constants"),
    ("layernorm_backward", lambda *a: layernorm_backward_steps(*a, through_var=False), "not the one through the variance"),
    ("layernorm_backward", lambda *a: layernorm_backward_steps(*a, dgamma_of_x=True), "dgamma uses x"),
    ("residual_block_forward", lambda *a: residual_steps(*a, skip=False), "y is F(x) alone"),
    ("residual_block_backward", lambda *a: residual_backward_steps(*a, skip=False), "dx misses the skip connection"),
    ("residual_block_backward", lambda *a: residual_backward_steps(*a, mask=False), "dx ignores the ReLU"),
]


# 11 ----------------------------------------------------------------------------------------

def positions_steps(T, D, *, halves=False, frequency_per_column=False):
    table = np.zeros((T, D))
    for t in range(T):
        for column in range(D):
            exponent = column if frequency_per_column else column - column % 2
            angle = t / 10000 ** (exponent / D)
            table[t, column] = np.sin(angle) if column % 2 == 0 else np.cos(angle)
    if halves:  # sin(angle_i) in the first ceil(D/2) columns, cos(angle_i) in the others
        table = np.concatenate([table[:, 0::2], table[:, 1::2]], axis=1)
    return table


def attention_steps(q, k, v, causal, *, scale=True, mask=True, axis=-1):
    scores = np.einsum("nid,njd->nij", q, k) / (np.sqrt(q.shape[2]) if scale else 1.0)
    if causal and mask:
        scores = scores + np.triu(np.full(scores.shape[1:], -np.inf), k=1)
    weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return np.einsum("nij,njd->nid", weights / weights.sum(axis=axis, keepdims=True), v)


def attention_backward_steps(dout, q, k, v, causal, *, scale_dq=True, scale_dk=True, transpose_dv=True):
    d = q.shape[2]
    scores = np.einsum("nid,njd->nij", q, k) / np.sqrt(d)
    if causal:
        scores = scores + np.triu(np.full(scores.shape[1:], -np.inf), k=1)
    p = np.exp(scores - scores.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    dp = np.einsum("nid,njd->nij", dout, v)
    dscores = p * (dp - (p * dp).sum(axis=2, keepdims=True))
    dq = np.einsum("nij,njd->nid", dscores, k) / (np.sqrt(d) if scale_dq else 1.0)
    dk = np.einsum("nij,nid->njd", dscores, q) / (np.sqrt(d) if scale_dk else 1.0)
    dv = np.einsum("nij,nid->njd", p, dout) if transpose_dv else np.einsum("nij,njd->nid", p, dout)
    return dq, dk, dv


PLANTED += [
    ("sinusoidal_positions", lambda *a: positions_steps(*a, halves=True), "all the sines come first"),
    ("sinusoidal_positions", lambda *a: positions_steps(*a, frequency_per_column=True), "every column has its own frequency"),
    ("attention_forward", lambda *a: attention_steps(*a, scale=False), "not divided by sqrt(d)"),
    ("attention_forward", lambda *a: attention_steps(*a, mask=False), "the causal mask is missing"),
    ("attention_forward", lambda *a: attention_steps(*a, axis=1), "the softmax runs down the columns"),
    ("attention_backward", lambda *a: attention_backward_steps(*a, scale_dq=False), "dq misses the 1 / sqrt(d)"),
    ("attention_backward", lambda *a: attention_backward_steps(*a, scale_dk=False), "dk misses the 1 / sqrt(d)"),
    ("attention_backward", lambda *a: attention_backward_steps(*a, transpose_dv=False), "dv is P @ dout"),
]


DIAGNOSED = FIRST_FIVE + [q.name for name in ("10_normalization", "11_attention") for q in EXERCISES[name].questions]
DIAGNOSED += ["tanh_backward", "matmul_backward", "unbroadcast", "sum_backward", "topological_order"]


PLANTED += [
    ("tanh_backward", lambda dout, out: dout * (1 - np.tanh(out) ** 2), "out is tanh(x) already"),
    ("matmul_backward", lambda dout, a, b: (b @ dout.T, a.T @ dout), "da is the transpose of the right answer"),
    ("unbroadcast", lambda grad, shape: grad.sum(axis=tuple(range(grad.ndim - len(shape)))),
     "only the leading axes were summed"),
    ("topological_order", breadth_first_order, "a valid topological order, but not the depth-first one"),
]


@pytest.mark.parametrize("name, wrong, sentence", PLANTED, ids=[f"{n}-{s[:30]}" for n, _, s in PLANTED])
def test_a_planted_mistake_is_recognised(name, wrong, sentence, capsys):
    with np.errstate(all="ignore"):
        assert not check(name, wrong)
    printed = capsys.readouterr().out
    assert "Likely mistake: " in printed and sentence in printed, printed
    diagnoses = [line for line in printed.splitlines() if "Likely mistake: " in line]
    assert len(diagnoses) == len(set(diagnoses))  # each said once, whatever the number of cases
    assert printed.index("Likely mistake: ") < printed.index("Hint: ")


@pytest.mark.parametrize("name", DIAGNOSED)
def test_a_right_answer_gets_no_diagnosis_and_every_output_is_named(name, capsys):
    question = QUESTIONS[name]
    assert question.outputs and question.diagnose is not None
    assert check(name, question.reference)
    assert "Likely mistake" not in capsys.readouterr().out


@pytest.mark.parametrize("name", DIAGNOSED)
def test_a_diagnosis_never_names_an_answer_that_is_only_slightly_off(name, capsys):
    question = QUESTIONS[name]

    def slightly_off(*args):
        outputs = question.reference(*args)
        outputs = list(outputs) if isinstance(outputs, tuple) else [outputs]
        outputs[0] = np.asarray(outputs[0]) + 1e-3
        return tuple(outputs) if len(outputs) > 1 else outputs[0]

    assert not check(name, slightly_off)
    assert "Likely mistake" not in capsys.readouterr().out


def test_a_naive_cross_entropy_fails_some_cases_and_a_stable_one_passes_all(capsys):
    with np.errstate(all="ignore"):
        naive = check("binary_cross_entropy_with_logits", cross_entropy_naive)
    assert 0 <= naive.passed < naive.cases
    assert check("binary_cross_entropy_with_logits", ref.binary_cross_entropy_with_logits).passed == 5


def test_outputs_are_compared_one_by_one_and_named():
    right = [np.zeros((2, 3)), np.ones(3), np.array(2.0)]
    wrong = [np.zeros((2, 3)), np.ones(3) + 1, np.array(3.0)]
    comparison = compare(right, wrong, rtol=1e-6, atol=1e-8, names=("dx", "dw", "db"))
    assert comparison.message == "dw and db differ; dx is right" and comparison.wrong == ("dw", "db")
    comparison = compare(right, [np.zeros((3, 2)), np.ones(3), np.array(2.0)], rtol=1e-6, atol=1e-8, names=("dx", "dw", "db"))
    assert comparison.message == "dx has shape (3, 2), expected (2, 3); dw and db are right"
    assert comparison.max_error != comparison.max_error  # NaN: no error is quoted when a shape is wrong
    assert compare(right, wrong[:2], rtol=1e-6, atol=1e-8, names=("dx", "dw", "db")).message == \
        "returned 2 array(s), expected 3 (dx, dw and db)"
    assert compare(right, wrong, rtol=1e-6, atol=1e-8).message == "output 1 and output 2 differ"


@pytest.mark.parametrize("name", DIAGNOSED)
def test_odd_outputs_get_feedback_not_a_crash(name, capsys):
    count = len(QUESTIONS[name].outputs)
    for shape in [(), (7,), (2, 3, 1, 1, 1)]:
        for value in (0.0, np.nan):
            outputs = [np.full(shape, value)] + [np.full(3 + i, value) for i in range(count - 1)]  # ragged: kept apart
            assert not check(name, lambda *args: tuple(outputs) if count > 1 else outputs[0])
            assert "FAILED" in capsys.readouterr().out
