"""The graded questions: which function each exercise asks for, how its test cases are drawn,
what it is worth, and the hint a learner sees when it fails.

A question's name is the name of the function the learner writes. Cases are drawn from a seed:
``check`` in a notebook uses the public stream, ``nutshell grade`` a separate grading stream, so
answers hard-coded for the cases a learner has seen do not pass grading. Most questions compare
outputs with a reference (``Question``); a ``TrainingTask`` instead has the learner train a model
and is scored by its accuracy on held-out data.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from ..datasets import traffic_signs
from ..pretrained import NEW_CLASSES, signs_of
from . import diagnoses, mistakes
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
    ``diagnoses.recognise(outputs, *mistakes)`` builds one from reusable mistakes.

    ``call`` says how the learner's code is called on a case: a Python expression evaluated in the
    learner's namespace with the case's arguments as ``args`` (by default ``name(*args)``), so
    that a backward pass can be graded on the cache of the learner's own forward pass.
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
    call: str = ""
    seconds: float | None = None      # its own time limit in the grader (None: ``--timeout``)

    @property
    def expression(self) -> str:
        return self.call or f"{self.name}(*args)"


class Split(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class TrainingTask:
    """A function ``name(X_train, y_train)`` that trains a classifier and returns ``predict``, a
    function from inputs X to one label per row; scored by its accuracy on held-out data.

    ``draw_split(rng, n_train, n_test)`` draws the training and held-out sets, of ``grading_sizes``
    for the grader and the smaller ``public_sizes`` for ``check``. The grader's process keeps
    ``y_test``: only the training set and ``X_test`` go to the learner's process, and the predicted labels come back, so the held-out labels never
    reach code the learner wrote. ``points`` are shared equally among ``thresholds``: one share for
    each accuracy threshold reached. ``seconds`` bounds training and prediction together.
    """
    name: str
    points: float
    draw_split: Callable[[np.random.Generator, int, int], Split]
    grading_sizes: tuple[int, int]
    public_sizes: tuple[int, int]
    thresholds: tuple[float, ...]
    seconds: float
    hint: str
    outputs: tuple[str, ...] = ("labels",)
    n_cases = 1

    @property
    def expression(self) -> str:
        return f"{self.name}(args[0], args[1])(args[2])"

    def split(self, seed: int, stream: int) -> Split:
        sizes = self.public_sizes if stream == PUBLIC_STREAM else self.grading_sizes
        return self.draw_split(_case_rng(self.name, seed, stream), *sizes)

    def reached(self, accuracy: float) -> int:
        return sum(accuracy >= threshold for threshold in self.thresholds)

    def score(self, accuracy: float) -> float:
        return round(self.points * self.reached(accuracy) / len(self.thresholds), 2)


@dataclass(frozen=True)
class Exercise:
    name: str
    questions: tuple[Question | TrainingTask, ...]
    uses_kernels: bool = False

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)


def _case_rng(name: str, seed: int, stream: int) -> np.random.Generator:
    """Each stream and question gets its own random sequence."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, zlib.crc32(name.encode()))))


def draw_cases(question: Question, seed: int, stream: int) -> list[tuple]:
    """The question's cases for ``seed``."""
    rng = _case_rng(question.name, seed, stream)
    return [question.draw_case(rng) for _ in range(question.n_cases)]


def _size(rng, low, high):
    return int(rng.integers(low, high + 1))


# 01 ----------------------------------------------------------------------------------------

def _logits(rng):
    shape = (_size(rng, 1, 4), _size(rng, 1, 6))[: _size(rng, 1, 2)]
    z = rng.normal(0.0, 4.0, shape)
    z.flat[0] = rng.choice([-1, 1]) * rng.uniform(710, 745)  # exp(710) overflows float64
    return (z,)


def _cross_entropy_case(rng):
    n = _size(rng, 3, 12)
    z = rng.normal(0.0, 4.0, n)
    y = rng.integers(0, 2, n).astype(np.float64)
    # One confidently wrong logit, where 1 - sigmoid(z) or sigmoid(z) rounds to 0 and log gives -inf,
    # and one confidently right one; |z| up to 1000.
    z[:2] = rng.choice([-1, 1], 2) * rng.uniform(40, 1000, 2)
    y[0], y[1] = float(z[0] < 0), float(z[1] > 0)
    order = rng.permutation(n)
    return z[order], y[order]


def _logistic_case(rng):
    n, d = _size(rng, 3, 12), _size(rng, 1, 5)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, 2, n).astype(np.float64)
    return (rng.normal(size=d), float(rng.normal()), X, y, float(rng.uniform(0.05, 1.0)),
            float(rng.uniform(0.05, 0.5)))


def _confidently_wrong_loss_too_small(args, expected, actual):
    """A finite loss below the right one on a case with extreme logits: p was clipped."""
    return (np.max(np.abs(args[0])) > 30 and actual["loss"].shape == ()
            and actual["loss"] < expected["loss"] - 1.0 and diagnoses.close(actual["dz"], expected["dz"]))


# 02 ----------------------------------------------------------------------------------------

def _labelled_points(rng, n, d):
    """Points labelled +-1 by a random boundary away from the origin, with a few labels flipped."""
    X = rng.normal(size=(n, d)) + rng.normal(scale=2.0, size=d)
    y = np.where(X @ rng.normal(size=d) + rng.normal() >= 0, 1.0, -1.0)
    flipped = rng.random(n) < 0.15
    y[flipped] = -y[flipped]
    return X, y


def _margin_case(rng):
    d = _size(rng, 1, 4)
    X, y = _labelled_points(rng, _size(rng, 3, 12), d)
    return rng.normal(size=d), float(rng.normal()), X, y


def _pocket_case(rng):
    X, y = _labelled_points(rng, _size(rng, 6, 16), _size(rng, 1, 3))
    return X, y, _size(rng, 1, 4), float(rng.uniform(0.1, 1.0))


# 03 ----------------------------------------------------------------------------------------

def _dense_case(rng):
    n, d, m = _size(rng, 2, 5), _size(rng, 1, 6), _size(rng, 1, 5)
    return (rng.normal(size=(n, m)), rng.normal(size=(n, d)), rng.normal(scale=0.7, size=(d, m)),
            rng.normal(scale=0.3, size=m))


def _mlp3_case(rng):
    n, d, h1, h2, k = _size(rng, 2, 8), _size(rng, 2, 5), _size(rng, 2, 6), _size(rng, 2, 6), _size(rng, 2, 4)
    return (rng.normal(size=(n, d)), rng.integers(0, k, n),
            rng.normal(scale=0.7, size=(d, h1)), rng.normal(scale=0.1, size=h1),
            rng.normal(scale=0.7, size=(h1, h2)), rng.normal(scale=0.1, size=h2),
            rng.normal(scale=0.7, size=(h2, k)), rng.normal(scale=0.1, size=k))


def _batch_size(args):
    return len(args[0])


# 04 ----------------------------------------------------------------------------------------

def _conv_geometry(rng):
    n, c, k = _size(rng, 1, 2), _size(rng, 1, 3), _size(rng, 1, 3)
    r, s = _size(rng, 1, 3), _size(rng, 1, 3)
    # A stride below the kernel size makes windows overlap (where `=` instead of `+=` shows).
    stride, padding = _size(rng, 1, max(1, max(r, s) - 1)), _size(rng, 0, 2)
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


def _conv_shape(args, stride, padding):
    x, w = args[0], args[1]
    return (x.shape[0], w.shape[0], ref.conv_output_size(x.shape[2], w.shape[2], stride, padding),
            ref.conv_output_size(x.shape[3], w.shape[3], stride, padding))


def _conv_forward_mistakes():
    stride, padding = (lambda args: args[3]), (lambda args: args[4])
    return (
        diagnoses.when(lambda args, e, a: padding(args) > 0 and a["y"].shape != e["y"].shape
                       and a["y"].shape == _conv_shape(args, stride(args), 0),
                       "y has the size of a convolution without padding: pad x with `padding` zeros on "
                       "each side of H and W first."),
        diagnoses.when(lambda args, e, a: stride(args) > 1 and a["y"].shape != e["y"].shape
                       and a["y"].shape == _conv_shape(args, 1, padding(args)),
                       "y has the size for stride 1: output pixel (i, j) reads the window starting at "
                       "(i * stride, j * stride)."),
        diagnoses.same_as("y", mistakes.conv2d_flipped, "y is the true convolution, with the kernel flipped: "
                          "deep learning's convolution is cross-correlation, w[k, c, r, s] multiplies "
                          "x_pad[n, c, i*stride + r, j*stride + s]."),
        diagnoses.same_as("y", mistakes.conv2d_without_bias, "the bias is missing: add b[k] to every "
                          "output pixel of filter k."),
    )


# 05 ----------------------------------------------------------------------------------------

def _pool_geometry(rng, padding=False):
    size = _size(rng, 2, 3)
    stride = _size(rng, 1, size)  # stride < size makes windows overlap
    pad = _size(rng, 0, size // 2) if padding else 0
    shape = (_size(rng, 1, 2), _size(rng, 1, 3), _size(rng, size, 8), _size(rng, size, 8))
    return rng.normal(size=shape), size, stride, pad


def _avg_pool_backward_case(rng):
    x, size, stride, _ = _pool_geometry(rng)
    out = (ref.conv_output_size(x.shape[2], size, stride, 0), ref.conv_output_size(x.shape[3], size, stride, 0))
    return rng.normal(size=x.shape[:2] + out), x, size, stride


def _padded_pool_case(rng):
    return _pool_geometry(rng, padding=True)


def _padded_pool_backward_case(rng):
    x, size, stride, padding = _pool_geometry(rng, padding=True)
    out = tuple(ref.conv_output_size(n, size, stride, padding) for n in x.shape[2:])
    return rng.normal(size=x.shape[:2] + out), x, size, stride, padding


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


def _traffic_sign_split(rng, n_train, n_test):
    """Training and held-out signs, each drawn from a seed of its own that the learner never sees."""
    X_train, y_train = traffic_signs(n_train, seed=int(rng.integers(2 ** 63)))
    X_test, y_test = traffic_signs(n_test, seed=int(rng.integers(2 ** 63)))
    return Split(X_train, y_train, X_test, y_test)


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

def _lstm_weights(rng, d, h):
    return (rng.normal(scale=0.5, size=(4 * h, d)), rng.normal(scale=0.5, size=(4 * h, h)),
            rng.normal(scale=0.1, size=4 * h))


def _lstm_cell_case(rng):
    n, d, h = _size(rng, 1, 3), _size(rng, 1, 4), _size(rng, 1, 4)
    return (rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h)), *_lstm_weights(rng, d, h))


def _lstm_cell_backward_case(rng):
    inputs = _lstm_cell_case(rng)
    n, h = inputs[1].shape
    return (rng.normal(size=(n, h)), rng.normal(size=(n, h)), *inputs)


def _lstm_sequence_case(rng):
    n, t, d, h = _size(rng, 1, 3), _size(rng, 1, 5), _size(rng, 1, 4), _size(rng, 1, 4)
    return (rng.normal(size=(n, t, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h)), *_lstm_weights(rng, d, h))


def _lstm_backward_case(rng):
    inputs = _lstm_sequence_case(rng)
    n, t, _ = inputs[0].shape
    return (rng.normal(size=(n, t, inputs[1].shape[1])), *inputs)


# 09 ----------------------------------------------------------------------------------------

def _shape(rng):
    return tuple(_size(rng, 1, 4) for _ in range(_size(rng, 1, 3)))


def _clip_case(rng):
    grads = [rng.normal(size=_shape(rng)) for _ in range(_size(rng, 1, 4))]
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return grads, float(norm * rng.choice([0.1, 0.5, 0.9, 1.5, 3.0]))  # some clip, some do not


def _adam_case(rng):
    shape, t = _shape(rng), _size(rng, 1, 50)
    fresh = t == 1  # the state before the first step is all zeros
    m = np.zeros(shape) if fresh else rng.normal(scale=0.1, size=shape)
    v = np.zeros(shape) if fresh else rng.uniform(0.0, 0.02, shape)
    return (rng.normal(size=shape), rng.normal(size=shape), m, v, t, float(rng.uniform(1e-3, 0.1)),
            float(rng.uniform(0.8, 0.95)), float(rng.uniform(0.95, 0.9999)), 1e-8)


def _batchnorm_case(rng):
    n, d = _size(rng, 2, 8), _size(rng, 1, 5)
    return (rng.normal(loc=rng.normal(scale=3.0, size=d), scale=rng.uniform(0.2, 3.0, d), size=(n, d)),
            rng.normal(size=d), rng.normal(size=d), float(rng.choice([1e-5, 1e-3, 0.1])))


def _batchnorm_backward_case(rng):
    x, gamma, beta, eps = _batchnorm_case(rng)
    return rng.normal(size=x.shape), x, gamma, beta, eps


# 13 ----------------------------------------------------------------------------------------

def _relative_change_case(rng):
    before = [rng.normal(size=_shape(rng)) for _ in range(_size(rng, 1, 4))]
    after = [array + rng.uniform(0, 0.5) * rng.normal(size=array.shape) for array in before]
    return before, after


def _train_head_case(rng):
    n, d, k = _size(rng, 4, 20), _size(rng, 2, 10), _size(rng, 2, 5)
    features = np.maximum(rng.normal(size=(n, d)), 0.0)  # like the ReLU-pooled features of a CNN
    return (features, rng.integers(0, k, n), rng.normal(scale=0.3, size=(d, k)), rng.normal(scale=0.1, size=k),
            float(rng.uniform(0.05, 1.0)), _size(rng, 1, 5))


def _new_sign_split(rng, n_train, n_test):
    """Few training signs and many held-out ones of the 5 classes the pretrained CNN never saw,
    labelled 0..4 as in ``pretrained.NEW_CLASSES``, from seeds the learner never sees."""
    X_train, y_train = signs_of(NEW_CLASSES, n_train, seed=int(rng.integers(2 ** 63)))
    X_test, y_test = signs_of(NEW_CLASSES, n_test, seed=int(rng.integers(2 ** 63)))
    return Split(X_train, y_train, X_test, y_test)


EXERCISES = {exercise.name: exercise for exercise in (
    Exercise("01_sigmoid", (
        Question("sigmoid", 2, _logits, ref.sigmoid,
                 "1 / (1 + exp(-z)); for very negative z, exp(-z) overflows (a warning, and the result is "
                 "still right); exp(z) / (1 + exp(z)) there avoids it.", outputs=("s",),
                 diagnose=diagnoses.recognise(("s",), diagnoses.non_finite(
                     "s", "exp(z) / (1 + exp(z)) is inf / inf for large positive z; use it only where z < 0"))),
        Question("binary_cross_entropy_with_logits", 4, _cross_entropy_case, ref.binary_cross_entropy_with_logits,
                 "With p = sigmoid(z): -log p = log(1 + exp(-z)) and -log(1 - p) = log(1 + exp(z)); "
                 "np.logaddexp(0, t) computes log(1 + exp(t)) for any t without overflow. "
                 "dL/dz = (sigmoid(z) - y) / N.", gradient=True, outputs=("loss", "dz"),
                 diagnose=diagnoses.recognise(
                     ("loss", "dz"),
                     diagnoses.non_finite("loss", "log(sigmoid(z)) is log(0) = -inf once sigmoid(z) rounds to 0 "
                                          "(z below about -745), and log(1 - sigmoid(z)) once it rounds to 1 "
                                          "(z above about 37); write the loss with the logits instead"),
                     diagnoses.when(_confidently_wrong_loss_too_small,
                                    "the loss is too small on a case with a confidently wrong logit: clipping p "
                                    "(to 1 - 1e-12, say) caps an example's loss at about 28, where the right "
                                    "loss is about |z|; write the loss with the logits instead."),
                     diagnoses.off_by_batch("loss", _batch_size, too_large="the loss is the mean over the "
                                            "examples, not their sum"),
                     diagnoses.off_by_batch("dz", _batch_size, too_large="the loss is the mean over the N "
                                            "examples, so dz = (sigmoid(z) - y) / N"),
                     diagnoses.sign_flipped("dz", "dL/dz = (sigmoid(z) - y) / N, not y - sigmoid(z)"))),
        Question("logistic_regression_step", 4, _logistic_case, ref.logistic_regression_step,
                 "loss = mean cross-entropy + weight_decay / 2 * sum(w**2), measured before the step; "
                 "dL/dw = X.T @ (p - y) / N + weight_decay * w; dL/db = mean(p - y), the bias is not decayed.",
                 gradient=True, outputs=("w_new", "b_new", "loss"),
                 diagnose=diagnoses.recognise(
                     ("w_new", "b_new", "loss"),
                     diagnoses.same_as("w_new", mistakes.step_w_without_decay, "w_new ignores the weight decay: "
                                       "the penalty weight_decay / 2 * ||w||**2 adds weight_decay * w to dL/dw."),
                     diagnoses.same_as("w_new", mistakes.step_w_uphill, "w_new moved uphill: gradient descent "
                                       "subtracts learning_rate times the gradient."),
                     diagnoses.same_as("b_new", mistakes.step_b_decayed, "the bias was decayed too: the penalty "
                                       "is on w only, so dL/db is just mean(p - y)."),
                     diagnoses.same_as("loss", mistakes.step_loss_without_penalty, "the loss lacks the penalty "
                                       "weight_decay / 2 * ||w||**2."),
                     diagnoses.same_as("loss", mistakes.step_loss_after_the_step, "the loss is measured after the "
                                       "step; return the one of the weights you were given."))),
    )),
    Exercise("02_perceptron", (
        Question("geometric_margin", 3, _margin_case, ref.geometric_margin,
                 "min over the rows of y_i * (w . x_i + b) / ||w||, with ||w|| = np.linalg.norm(w).",
                 outputs=("margin",),
                 diagnose=diagnoses.recognise(
                     ("margin",),
                     diagnoses.same_as("margin", mistakes.margin_not_normalised, "the margin is not divided by "
                                       "||w||: a score w . x + b grows when w and b are scaled, a distance does not."),
                     diagnoses.same_as("margin", mistakes.margin_without_labels, "the margin ignores the labels: "
                                       "y_i * (w . x_i + b) is negative for a row on the wrong side, |w . x_i + b| "
                                       "never is."),
                     diagnoses.same_as("margin", mistakes.margin_of_the_farthest, "that is the farthest row's "
                                       "distance: the margin is the closest one's, the minimum."))),
        Question("pocket_perceptron", 7, _pocket_case, ref.pocket_perceptron,
                 "Run the perceptron rule from w = 0, b = 0; after every update count the rows with "
                 "y_i * (w . x_i + b) <= 0, and keep a copy of (w, b) and that count whenever it is "
                 "strictly smaller than the pocket's. The pocket starts as (zeros, 0.0, N).",
                 outputs=("w", "b", "errors"),
                 diagnose=diagnoses.recognise(
                     ("w", "b", "errors"),
                     diagnoses.same_as("w", mistakes.pocket_w_last, "w is the weights at the end of the run, not "
                                       "the pocket's: keep a copy (w.copy()) when the errors drop; `best_w = w` "
                                       "is a second name for the array that `w +=` goes on changing."),
                     diagnoses.same_as("w", mistakes.pocket_w_last_in_a_tie, "in a tie the pocket keeps the "
                                       "first weights: replace it only when the errors are strictly fewer."))),
    )),
    Exercise("03_backprop", (
        Question("dense_tanh_backward", 4, _dense_case, ref.dense_tanh_backward,
                 "With y = tanh(z), z = x @ w + b: dz = dout * (1 - y**2); then dx = dz @ w.T, "
                 "dw = x.T @ dz, db = dz summed over the batch.", gradient=True, outputs=("dx", "dw", "db"),
                 diagnose=diagnoses.recognise(
                     ("dx", "dw", "db"),
                     diagnoses.same_as("dx", mistakes.dense_tanh_dx_without_slope, "the tanh's slope is "
                                       "missing: multiply dout by 1 - y**2 before the dense layer's gradients."),
                     diagnoses.same_as("dx", mistakes.dense_tanh_dx_tanh_twice, "the slope is 1 - y**2 with "
                                       "y = tanh(z) the output: you took tanh of the output once more."),
                     diagnoses.transposed("dw", "dw = x.T @ dz has the shape of w"),
                     diagnoses.when(lambda args, e, a: a["db"].shape == args[0].shape,
                                    "db has one row per example: sum it over the batch (axis 0)."))),
        Question("mlp3_loss_and_grads", 6, _mlp3_case, ref.mlp3_loss_and_grads,
                 "Forward: h1 = tanh(X @ W1 + b1), h2 = tanh(h1 @ W2 + b2), scores = h2 @ W3 + b3; "
                 "softmax_cross_entropy gives the loss and dscores (with the 1/N already in it). "
                 "Backward: the output layer, then each tanh layer: multiply by 1 - h**2, then dense.",
                 gradient=True, outputs=("loss", "dW1", "db1", "dW2", "db2", "dW3", "db3"),
                 diagnose=diagnoses.recognise(
                     ("loss", "dW1", "db1", "dW2", "db2", "dW3", "db3"),
                     *(diagnoses.off_by_batch(name, _batch_size, too_small="softmax_cross_entropy's dscores "
                                              "already carry the 1/N; divide by N once only")
                       for name in ("dW1", "dW2", "dW3")),
                     *(diagnoses.transposed(name) for name in ("dW1", "dW2", "dW3")),
                     diagnoses.sign_flipped("dW3", "dscores = (probs - onehot) / N"),
                     diagnoses.same_as("dW1", mistakes.mlp3_dW1_without_first_slope, "dW1 misses the first "
                                       "tanh's slope: multiply dh1 by 1 - h1**2."))),
    )),
    Exercise("04_conv", (
        Question("conv2d_naive", 2, _conv_case, ref.conv2d,
                 "Pad first, then y[n, k, i, j] = sum(x_pad[n, :, i*stride:i*stride+R, j*stride:j*stride+S] "
                 "* w[k]) + b[k]; output size (H + 2*padding - R) // stride + 1.", outputs=("y",),
                 diagnose=diagnoses.recognise(("y",), *_conv_forward_mistakes())),
        Question("conv2d_im2col", 3, _conv_case, ref.conv2d,
                 "Build cols (N, C*R*S, P*Q): for each tap (r, s), x_pad[:, :, r:r + stride*P:stride, "
                 "s:s + stride*Q:stride] is that tap's value in every window; order the rows (c, r, s) like "
                 "w.reshape(K, C*R*S); then y = w_rows @ cols + b, reshaped to (N, K, P, Q).", outputs=("y",),
                 diagnose=diagnoses.recognise(("y",), *_conv_forward_mistakes())),
        Question("conv2d_backward_naive", 5, _conv_backward_case, ref.conv2d_backward,
                 "Mirror the forward loops: each window adds dy[n,k,i,j] * w[k] into dx_pad and "
                 "dy[n,k,i,j] * window into dw[k]; crop the padding off dx at the end.", gradient=True,
                 outputs=("dx", "dw", "db"),
                 diagnose=diagnoses.recognise(
                     ("dx", "dw", "db"),
                     diagnoses.padding_not_cropped("dx", lambda args: args[4]),
                     diagnoses.assigned_not_added("dx", mistakes.conv2d_backward_dx_assigned,
                                                  partial(mistakes.conv2d_backward_dx_assigned, filters_summed=True)),
                     diagnoses.when(lambda args, e, a: a["db"].shape != e["db"].shape and a["db"].ndim > 1,
                                    "db sums dy over the batch and every position: dy.sum(axis=(0, 2, 3))."))),
    )),
    Exercise("05_pool", (
        Question("avg_pool_backward", 3, _avg_pool_backward_case, ref.avg_pool_backward,
                 "Every input of window (i, j) gets dy[n, c, i, j] / size**2; with stride < size the windows "
                 "overlap, so add (+=), don't assign.", gradient=True, outputs=("dx",),
                 diagnose=diagnoses.recognise(
                     ("dx",),
                     diagnoses.assigned_not_added("dx", mistakes.avg_pool_backward_assigned),
                     diagnoses.same_as("dx", lambda dy, x, size, stride: ref.avg_pool_backward(dy, x, size, stride)
                                       * size ** 2, "dx is size**2 times too large: the window's mean divides "
                                       "by size**2, so each input gets dy / size**2."))),
        Question("max_pool_padded", 3, _padded_pool_case, ref.max_pool,
                 "Pad H and W with `padding` rows and columns of -inf on each side (padding must never win), "
                 "then take the max of each size x size window every `stride`; output size "
                 "(H + 2*padding - size) // stride + 1.", outputs=("y",),
                 diagnose=diagnoses.recognise(
                     ("y",),
                     diagnoses.same_as("y", mistakes.max_pool_zero_padded, "padding with zeros lets a 0 win "
                                       "windows of negative values at the border: pad with -np.inf."),
                     diagnoses.when(lambda args, e, a: args[3] > 0 and a["y"].shape == ref.max_pool(*args[:3]).shape,
                                    "y has the size of pooling without padding: pad first."))),
        Question("max_pool_padded_backward", 4, _padded_pool_backward_case, ref.max_pool_backward,
                 "Send dy to the position of each window's max in the padded input; windows overlap when "
                 "stride < size, so add (+=); crop the padding off at the end.", gradient=True, outputs=("dx",),
                 diagnose=diagnoses.recognise(
                     ("dx",),
                     diagnoses.padding_not_cropped("dx", lambda args: args[4]),
                     diagnoses.assigned_not_added("dx", mistakes.max_pool_backward_assigned),
                     diagnoses.same_as("dx", mistakes.max_pool_backward_zero_padded, "gradient is missing at "
                                       "the border: with zero padding a 0 can win a window; pad with -np.inf."))),
    )),
    Exercise("06_cnn", (
        Question("conv_output_size", 1, _output_size_case, ref.conv_output_size,
                 "(size + 2 * padding - window) // stride + 1, with integer division.", n_cases=8,
                 outputs=("size",)),
        Question("cnn_output_shapes", 2, _cnn_shapes_case, ref.cnn_output_shapes,
                 "Keep the batch size; conv sets the channels to K; pool keeps the channels; flatten "
                 "multiplies C * H * W; return one shape tuple per layer."),
        Question("cnn_training_step", 3, _cnn_step_case, ref.cnn_training_step,
                 "Backward in reverse order: dense, reshape to the pooled shape, max-pool backward, "
                 "ReLU mask, conv2d_backward (padding 1); update with the gradients of this batch; the loss "
                 "is measured before the update.", gradient=True,
                 outputs=("loss", "w_conv", "b_conv", "w_dense", "b_dense")),
        TrainingTask("train_traffic_sign_classifier", 4, _traffic_sign_split, (3000, 1000), (2000, 500),
                     (0.60, 0.75, 0.85, 0.92), 180.0,
                     "A small CNN trained with the library (Conv2D, ReLU, MaxPool2D, Dense, fit with Adam) for a "
                     "few epochs reaches well over 92%. Centre the inputs with the training set's mean, return "
                     "integer labels (argmax of the scores, one per image), and keep the training well inside "
                     "the time limit."),
    ), uses_kernels=True),
    Exercise("07_inception", (
        Question("concat_channels_backward", 2, _concat_case, ref.concat_channels_backward,
                 "The gradient of a concatenation is the slice of dy that each input occupied.", gradient=True),
        Question("inception_param_count", 3, _param_count_case, ref.inception_param_count,
                 "A conv with C_in inputs, C_out outputs and a k x k window has C_out*C_in*k*k weights "
                 "plus C_out biases; the module has six convs (the pool has none).", outputs=("count",)),
        Question("inception_forward", 5, _inception_case, ref.inception_forward,
                 "Branch order 1x1, 3x3, 5x5, pool; a ReLU after every convolution; the 3x3 and 5x5 convs "
                 "pad 1 and 2 so all branches keep H x W; concatenate on axis 1.", outputs=("out",)),
    ), uses_kernels=True),
    Exercise("08_lstm", (
        Question("lstm_cell_forward", 2, _lstm_cell_case, ref.lstm_cell_forward,
                 "a = x @ W_ih.T + h_prev @ W_hh.T + b, split into four (N, H) blocks i, f, g, o in that order; "
                 "i, f, o sigmoid, g tanh; c = f*c_prev + i*g; h = o*tanh(c).", outputs=("h", "c")),
        Question("lstm_forward", 2, _lstm_sequence_case, ref.lstm_forward,
                 "Start from h0 and c0, call the cell once per step t on x[:, t], and stack every step's h "
                 "on axis 1 (batch first: (N, T, H)).", outputs=("hs",)),
        Question("lstm_cell_backward", 3, _lstm_cell_backward_case, ref.lstm_cell_backward,
                 "c receives gradient from dc and through h: dc + dh*o*(1 - tanh(c)**2); each gate's gradient "
                 "goes through its nonlinearity into da (blocks i, f, g, o); then dx = da @ W_ih, "
                 "dh_prev = da @ W_hh, dW_ih = da.T @ x, dW_hh = da.T @ h_prev.",
                 gradient=True, outputs=("dx", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db")),
        Question("lstm_backward", 3, _lstm_backward_case, ref.lstm_backward,
                 "Run the forward first and keep every step's (h, c). Go back from the last step: step t's h "
                 "gets dhs[:, t] plus the dh_prev of step t+1, its c the dc_prev of step t+1; add up the weight "
                 "gradients over the steps; what is left at step 0 is dh0 and dc0.",
                 gradient=True, outputs=("dx", "dh0", "dc0", "dW_ih", "dW_hh", "db")),
    )),
    Exercise("09_training", (
        Question("clip_grad_norm", 2, _clip_case, ref.clip_grad_norm,
                 "The global norm is sqrt of the sum of all squared entries of all the arrays together; scale "
                 "every array by max_norm / (norm + 1e-6) only when that factor is below 1; return the norm "
                 "before clipping."),
        Question("adam_step", 2, _adam_case, ref.adam_step,
                 "m and v are running averages of grad and grad**2; correct them by 1 - beta1**t and "
                 "1 - beta2**t (t counts from 1) before the update param - lr * m_hat / (sqrt(v_hat) + eps); "
                 "return the uncorrected m and v.", outputs=("param", "m", "v")),
        Question("batchnorm_forward", 2, _batchnorm_case, ref.batchnorm_forward,
                 "Mean and variance per feature, over the batch (axis 0); the variance is the biased one "
                 "(np.var); eps goes inside the square root; then gamma * x_hat + beta.", outputs=("out",),
                 call="batchnorm_forward(*args)[0]"),
        Question("batchnorm_backward", 4, _batchnorm_backward_case, ref.batchnorm_backward,
                 "dbeta = sum(dout), dgamma = sum(dout * x_hat) over the batch. For dx, remember that the "
                 "mean and the variance depend on every input: dx = (dx_hat - mean(dx_hat) - "
                 "x_hat * mean(dx_hat * x_hat)) / std with dx_hat = dout * gamma. (It is called with the cache "
                 "of your batchnorm_forward.)",
                 gradient=True, outputs=("dx", "dgamma", "dbeta"),
                 call="batchnorm_backward(args[0], batchnorm_forward(*args[1:])[1])"),
    )),
    Exercise("13_transfer", (
        Question("relative_change", 1, _relative_change_case, ref.relative_change,
                 "For each pair: the norm of the difference over the norm of the *before* array, "
                 "np.linalg.norm(after - before) / np.linalg.norm(before); one number per pair, as an array.",
                 outputs=("change",)),
        Question("train_head", 3, _train_head_case, ref.train_head,
                 "The features are fixed: only W and b change. Each step: scores = features @ W + b, "
                 "p = softmax(scores) (subtract each row's max first), dscores = (p - one_hot(y)) / N, "
                 "then W -= learning_rate * features.T @ dscores and b -= learning_rate * dscores.sum(axis=0). "
                 "Do not change the arrays you were given.", outputs=("W", "b")),
        TrainingTask("train_new_sign_classifier", 6, _new_sign_split, (50, 1000), (50, 500),
                     (0.60, 0.75, 0.85), 60.0,
                     "Start from pretrained_sign_cnn(5), freeze its features (freeze(model.children['features'])) "
                     "so that only the new head learns, and train with Adam (a rate around 1e-2) for about a "
                     "hundred steps. Return integer labels, one per image (argmax of the scores). A network "
                     "trained from scratch on 10 signs per class stays near 80%."),
    ), uses_kernels=True),
)}

QUESTIONS = {q.name: q for exercise in EXERCISES.values() for q in exercise.questions}
