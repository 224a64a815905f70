"""The graded questions: which function each exercise asks for, how its test cases are drawn,
what it is worth, and the hint a learner sees when it fails.

A question's name is the name of the function the learner writes. Cases are drawn from a seed:
``check`` in a notebook uses the public stream, ``nutshell grade`` a separate grading stream, so
answers hard-coded for the cases a learner has seen do not pass grading.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import reference as ref

PUBLIC_STREAM = 0
GRADING_STREAM = 1
PUBLIC_SEED = 0


@dataclass(frozen=True)
class Question:
    """One graded function.

    ``outputs`` names what the function returns, in order (``("dx", "dw", "db")``), so feedback
    says "dw differs" rather than "output 1 differs". ``diagnose(args, expected, actual)`` may
    recognise a common mistake (a transposed result, a gradient off by the batch size) and return
    a sentence that is shown before the general ``hint``; it returns None when it sees none.
    """
    name: str
    points: float
    draw_case: Callable[[np.random.Generator], tuple]
    reference: Callable
    hint: str
    gradient: bool = False
    n_cases: int = 5
    rtol: float = 1e-6
    atol: float = 1e-8
    outputs: tuple[str, ...] = ()
    diagnose: Callable[[tuple, list, list], str | None] | None = None


@dataclass(frozen=True)
class Exercise:
    name: str
    questions: tuple[Question, ...]
    uses_kernels: bool = False

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)


def draw_cases(question: Question, seed: int, stream: int) -> list[tuple]:
    """The question's cases for ``seed``; each stream and question gets its own random sequence."""
    sequence = np.random.SeedSequence(seed, spawn_key=(stream, zlib.crc32(question.name.encode())))
    rng = np.random.default_rng(sequence)
    return [question.draw_case(rng) for _ in range(question.n_cases)]


def _size(rng, low, high):
    return int(rng.integers(low, high + 1))


# 01 ----------------------------------------------------------------------------------------

def _logits(rng):
    shape = (_size(rng, 1, 4), _size(rng, 1, 6))[: _size(rng, 1, 2)]
    z = rng.normal(0.0, 4.0, shape)
    z.flat[0] = rng.choice([-1, 1]) * rng.uniform(710, 745)  # exp(710) overflows float64
    return (z,)


def _logistic_case(rng):
    n, d = _size(rng, 3, 12), _size(rng, 1, 5)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, 2, n).astype(np.float64)
    return rng.normal(size=d), float(rng.normal()), X, y, float(rng.uniform(0.05, 1.0))


# 02 ----------------------------------------------------------------------------------------

def _perceptron_data(rng):
    n, d = _size(rng, 4, 12), _size(rng, 1, 4)
    X = rng.normal(size=(n, d))
    y = np.where(X @ rng.normal(size=d) + rng.normal(scale=0.3, size=n) >= 0, 1.0, -1.0)
    return rng.normal(size=d), float(rng.normal()), X, y


def _predict_case(rng):
    w, b, X, _ = _perceptron_data(rng)
    return w, b, X


def _epoch_case(rng):
    return (*_perceptron_data(rng), float(rng.uniform(0.1, 1.0)))


# 03 ----------------------------------------------------------------------------------------

def _dense_case(rng):
    n, d, m = _size(rng, 1, 5), _size(rng, 1, 6), _size(rng, 1, 5)
    return rng.normal(size=(n, m)), rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def _mlp_case(rng):
    n, d, h, k = _size(rng, 2, 8), _size(rng, 2, 5), _size(rng, 2, 6), _size(rng, 2, 4)
    return (rng.normal(size=(n, d)), rng.integers(0, k, n), rng.normal(scale=0.7, size=(d, h)),
            rng.normal(scale=0.1, size=h), rng.normal(scale=0.7, size=(h, k)), rng.normal(scale=0.1, size=k))


# 04 ----------------------------------------------------------------------------------------

def _conv_geometry(rng):
    n, c, k = _size(rng, 1, 2), _size(rng, 1, 3), _size(rng, 1, 3)
    r, s = _size(rng, 1, 3), _size(rng, 1, 3)
    stride, padding = _size(rng, 1, 2), _size(rng, 0, 2)
    h, w = _size(rng, max(1, r - 2 * padding), 7), _size(rng, max(1, s - 2 * padding), 7)
    x = rng.normal(size=(n, c, h, w))
    weights = rng.normal(size=(k, c, r, s))
    return x, weights, stride, padding


def _conv_case(rng):
    x, w, stride, padding = _conv_geometry(rng)
    return x, w, rng.normal(size=w.shape[0]), stride, padding


def _conv_backward_case(rng):
    x, w, stride, padding = _conv_geometry(rng)
    p = ref.conv_output_size(x.shape[2], w.shape[2], stride, padding)
    q = ref.conv_output_size(x.shape[3], w.shape[3], stride, padding)
    return rng.normal(size=(x.shape[0], w.shape[0], p, q)), x, w, stride, padding


# 05 ----------------------------------------------------------------------------------------

def _pool_geometry(rng):
    size = _size(rng, 2, 3)
    stride = _size(rng, 1, size)  # stride < size makes windows overlap
    shape = (_size(rng, 1, 2), _size(rng, 1, 3), _size(rng, size, 8), _size(rng, size, 8))
    return rng.normal(size=shape), size, stride


def _pool_case(rng):
    return _pool_geometry(rng)


def _pool_backward_case(rng):
    x, size, stride = _pool_geometry(rng)
    out = (ref.conv_output_size(x.shape[2], size, stride, 0), ref.conv_output_size(x.shape[3], size, stride, 0))
    return rng.normal(size=x.shape[:2] + out), x, size, stride


# 06 ----------------------------------------------------------------------------------------

def _output_size_case(rng):
    window, stride, padding = _size(rng, 1, 7), _size(rng, 1, 3), _size(rng, 0, 3)
    return _size(rng, max(1, window - 2 * padding), 64), window, stride, padding


def _cnn_shapes_case(rng):
    size = _size(rng, 20, 48)
    shape = (_size(rng, 1, 16), _size(rng, 1, 3), size, size + _size(rng, 0, 5))
    layers, spatial = [], min(shape[2:])
    for _ in range(_size(rng, 1, 3)):
        window = int(rng.choice([1, 3, 5]))
        stride, padding = _size(rng, 1, 2), _size(rng, 0, window // 2)
        spatial = ref.conv_output_size(spatial, window, stride, padding)
        layers.append(("conv", _size(rng, 2, 64), window, stride, padding))
        if spatial >= 4:
            pool = _size(rng, 2, 3)
            spatial = ref.conv_output_size(spatial, pool, pool, 0)
            layers.append(("pool", pool, pool))
    layers += [("flatten",), ("dense", _size(rng, 2, 100))]
    return shape, layers


def _cnn_step_case(rng):
    n, c, k, classes = _size(rng, 1, 3), _size(rng, 1, 2), _size(rng, 2, 3), 3
    h, w = 2 * _size(rng, 2, 4), 2 * _size(rng, 2, 4)
    features = k * (h // 2) * (w // 2)
    return (rng.normal(size=(n, c, h, w)), rng.integers(0, classes, n),
            rng.normal(scale=0.5, size=(k, c, 3, 3)), rng.normal(scale=0.1, size=k),
            rng.normal(scale=0.3, size=(features, classes)), rng.normal(scale=0.1, size=classes),
            float(rng.uniform(0.01, 0.5)))


# 07 ----------------------------------------------------------------------------------------

INCEPTION_BRANCHES = (("1x1", 1, "in"), ("3x3_reduce", 1, "in"), ("3x3", 3, "3x3_reduce"),
                      ("5x5_reduce", 1, "in"), ("5x5", 5, "5x5_reduce"), ("pool_proj", 1, "in"))


def _inception_case(rng):
    n, c, h, w = _size(rng, 1, 2), _size(rng, 1, 3), _size(rng, 3, 6), _size(rng, 3, 6)
    channels = {"in": c}
    params = {}
    for name, window, source in INCEPTION_BRANCHES:
        channels[name] = _size(rng, 1, 3)
        fan_in = channels[source] * window * window
        params[name] = (rng.normal(scale=1 / np.sqrt(fan_in), size=(channels[name], channels[source], window, window)),
                        rng.normal(scale=0.1, size=channels[name]))
    return rng.normal(size=(n, c, h, w)), params


def _concat_case(rng):
    channels = [_size(rng, 1, 4) for _ in range(_size(rng, 2, 4))]
    return rng.normal(size=(_size(rng, 1, 2), sum(channels), _size(rng, 1, 4), _size(rng, 1, 4))), channels


def _param_count_case(rng):
    return tuple(_size(rng, 1, 512) for _ in range(7))


# 08 ----------------------------------------------------------------------------------------

def _lstm_inputs(rng):
    n, d, h = _size(rng, 1, 3), _size(rng, 1, 4), _size(rng, 1, 4)
    return (rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h)),
            rng.normal(scale=0.5, size=(d + h, 4 * h)), rng.normal(scale=0.1, size=4 * h))


def _lstm_backward_case(rng):
    inputs = _lstm_inputs(rng)
    n, h = inputs[1].shape
    return (rng.normal(size=(n, h)), rng.normal(size=(n, h)), *inputs)


# 10 ----------------------------------------------------------------------------------------

def _layernorm_inputs(rng):
    n, d = _size(rng, 1, 5), _size(rng, 2, 8)
    # rows with their own offset and spread, so forgetting the mean or the variance shows
    x = rng.normal(rng.normal(0.0, 3.0, (n, 1)), rng.uniform(0.1, 3.0, (n, 1)), (n, d))
    return x, rng.normal(size=d), rng.normal(size=d), float(rng.choice([1e-5, 1e-3, 0.1, 0.5]))


def _layernorm_backward_case(rng):
    x, gamma, beta, eps = _layernorm_inputs(rng)
    return rng.normal(size=x.shape), x, gamma, beta, eps


def _residual_inputs(rng):
    n, d, h = _size(rng, 1, 5), _size(rng, 1, 5), _size(rng, 1, 6)
    return (rng.normal(size=(n, d)), rng.normal(scale=0.7, size=(d, h)), rng.normal(scale=0.5, size=h),
            rng.normal(scale=0.7, size=(h, d)), rng.normal(scale=0.1, size=d))


def _residual_backward_case(rng):
    inputs = _residual_inputs(rng)
    return (rng.normal(size=inputs[0].shape), *inputs)


def _same(actual, candidate, expected):
    """True when ``actual`` matches ``candidate``, a known mistake, and the mistake is not the answer."""
    return (actual.shape == candidate.shape and np.allclose(actual, candidate, rtol=1e-6, atol=1e-8)
            and not np.allclose(candidate, expected, rtol=1e-6, atol=1e-8))


def _diagnose_layernorm_backward(args, expected, actual):
    dy, x, gamma, _, eps = args
    if actual and _same(actual[0], dy * gamma / np.sqrt(x.var(axis=1, keepdims=True) + eps), expected[0]):
        return ("dx = dy * gamma / std treats the row's mean and variance as constants, but both depend on "
                "every entry of the row.")
    return None


def _diagnose_residual_backward(args, expected, actual):
    if actual and _same(actual[0], expected[0] - args[0], expected[0]):
        return "dx misses the skip connection: y = x + F(x), so dy reaches x directly as well as through F."
    return None


EXERCISES = {exercise.name: exercise for exercise in (
    Exercise("01_sigmoid", (
        Question("sigmoid", 3, _logits, ref.sigmoid,
                 "1 / (1 + exp(-z)); for very negative z, exp(-z) overflows: rewrite with exp(z) there."),
        Question("sigmoid_grad", 3, _logits, ref.sigmoid_grad, "sigma'(z) = sigma(z) * (1 - sigma(z)).",
                 gradient=True),
        Question("logistic_regression_step", 4, _logistic_case, ref.logistic_regression_step,
                 "dL/dw = X.T @ (p - y) / N and dL/db = mean(p - y); the loss is measured before the step.",
                 gradient=True),
    )),
    Exercise("02_perceptron", (
        Question("perceptron_predict", 3, _predict_case, ref.perceptron_predict,
                 "Return +1 where X @ w + b >= 0 and -1 elsewhere, one label per row of X."),
        Question("perceptron_epoch", 7, _epoch_case, ref.perceptron_epoch,
                 "Visit the rows in order; a row with y_i * (w . x_i + b) <= 0 is a mistake and updates "
                 "w and b at once, before the next row is looked at."),
    )),
    Exercise("03_backprop", (
        Question("dense_backward", 4, _dense_case, ref.dense_backward,
                 "dx = dout @ w.T, dw = x.T @ dout, db sums dout over the batch.", gradient=True),
        Question("mlp_loss_and_grads", 6, _mlp_case, ref.mlp_loss_and_grads,
                 "Average the loss over the batch; softmax's gradient is (probs - onehot) / N; "
                 "ReLU passes gradient only where its input was > 0.", gradient=True),
    )),
    Exercise("04_conv", (
        Question("conv2d_naive", 4, _conv_case, ref.conv2d,
                 "Pad first, then y[n, k, i, j] = sum(x_pad[n, :, i*stride:i*stride+R, j*stride:j*stride+S] "
                 "* w[k]) + b[k]; output size (H + 2*padding - R) // stride + 1."),
        Question("conv2d_backward_naive", 6, _conv_backward_case, ref.conv2d_backward,
                 "Mirror the forward loops: each window adds dy[n,k,i,j] * w[k] into dx_pad and "
                 "dy[n,k,i,j] * window into dw[k]; crop the padding off dx at the end.", gradient=True),
    )),
    Exercise("05_pool", (
        Question("max_pool_naive", 4, _pool_case, ref.max_pool,
                 "Output size (H - size) // stride + 1; take the max of each size x size window."),
        Question("max_pool_backward_naive", 6, _pool_backward_case, ref.max_pool_backward,
                 "Send dy to the position of each window's max; when windows overlap, one input can be "
                 "the max of several windows, so add (+=), don't assign.", gradient=True),
    )),
    Exercise("06_cnn", (
        Question("conv_output_size", 2, _output_size_case, ref.conv_output_size,
                 "(size + 2 * padding - window) // stride + 1, with integer division.", n_cases=8),
        Question("cnn_output_shapes", 3, _cnn_shapes_case, ref.cnn_output_shapes,
                 "Keep the batch size; conv sets the channels to K; pool keeps the channels; flatten "
                 "multiplies C * H * W; return one shape tuple per layer."),
        Question("cnn_training_step", 5, _cnn_step_case, ref.cnn_training_step,
                 "Backward in reverse order: dense, reshape to the pooled shape, max-pool backward, "
                 "ReLU mask, conv2d_backward (padding 1); update with the gradients of this batch; the loss "
                 "is measured before the update.", gradient=True),
    ), uses_kernels=True),
    Exercise("07_inception", (
        Question("inception_forward", 5, _inception_case, ref.inception_forward,
                 "Branch order 1x1, 3x3, 5x5, pool; a ReLU after every convolution; the 3x3 and 5x5 convs "
                 "pad 1 and 2 so all branches keep H x W; concatenate on axis 1."),
        Question("concat_channels_backward", 2, _concat_case, ref.concat_channels_backward,
                 "The gradient of a concatenation is the slice of dy that each input occupied.", gradient=True),
        Question("inception_param_count", 3, _param_count_case, ref.inception_param_count,
                 "A conv with C_in inputs, C_out outputs and a k x k window has C_out*C_in*k*k weights "
                 "plus C_out biases; the module has six convs (the pool has none)."),
    ), uses_kernels=True),
    Exercise("08_lstm", (
        Question("lstm_cell_forward", 4, _lstm_inputs, ref.lstm_cell_forward,
                 "z = concat([x, h_prev], axis=1) @ W + b; gates i, f, o (sigmoid) and g (tanh) in that "
                 "order; c = f*c_prev + i*g; h = o*tanh(c)."),
        Question("lstm_cell_backward", 6, _lstm_backward_case, ref.lstm_cell_backward,
                 "c receives gradient from dc and through h: dc + dh*o*(1 - tanh(c)**2); the gate "
                 "gradients go through their nonlinearities into dz, then dW = [x, h_prev].T @ dz.",
                 gradient=True),
    )),
    Exercise("10_normalization", (
        Question("layernorm_forward", 2, _layernorm_inputs, ref.layernorm_forward,
                 "Mean and variance of each row (axis=1, keepdims=True, the biased variance); "
                 "y = gamma * (x - mean) / sqrt(var + eps) + beta."),
        Question("layernorm_backward", 4, _layernorm_backward_case, ref.layernorm_backward,
                 "dgamma = sum over rows of dy * x_hat, dbeta = sum of dy; with g = dy * gamma, "
                 "dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps), means taken along each row.",
                 gradient=True, outputs=("dx", "dgamma", "dbeta"), diagnose=_diagnose_layernorm_backward),
        Question("residual_block_forward", 1, _residual_inputs, ref.residual_block_forward,
                 "y = x + relu(x @ W1 + b1) @ W2 + b2: the block's output is added to its own input."),
        Question("residual_block_backward", 3, _residual_backward_case, ref.residual_block_backward,
                 "Back through the second dense layer, the ReLU mask and the first dense layer as in "
                 "exercise 03; then add dy to dx for the skip.",
                 gradient=True, outputs=("dx", "dW1", "db1", "dW2", "db2"), diagnose=_diagnose_residual_backward),
    )),
)}

QUESTIONS = {q.name: q for exercise in EXERCISES.values() for q in exercise.questions}
