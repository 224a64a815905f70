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
    says "dw differs" rather than "output 1 differs". ``diagnose``, built with
    ``diagnoses.recognise(*mistakes)`` from reusable mistakes, may recognise a common mistake (a
    transposed result, a gradient off by the batch size) and return a sentence that is shown
    before the general ``hint``; it returns None when it sees none. It gets the outputs by these
    names (``feedback.judge_case``), and each mistake refers to them by name: a name that is not
    one of ``outputs`` is a ValueError when the question is defined.

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
    diagnose: diagnoses.Diagnosis | None = None
    call: str = ""
    seconds: float | None = None      # its own time limit in the grader (None: ``--timeout``)

    def __post_init__(self):
        if self.diagnose is None:
            return
        if not isinstance(self.diagnose, diagnoses.Diagnosis):
            raise TypeError(f"question {self.name!r}: diagnose must be built with diagnoses.recognise(...), "
                            f"got {type(self.diagnose).__name__}")
        # checked here, once, and bound to this question so that errors at use name it too
        object.__setattr__(self, "diagnose", self.diagnose.for_question(self.name, self.outputs))

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
        diagnoses.when("y", lambda args, e, a: padding(args) > 0 and a["y"].shape != e["y"].shape
                       and a["y"].shape == _conv_shape(args, stride(args), 0),
                       "y has the size of a convolution without padding: pad x with `padding` zeros on "
                       "each side of H and W first."),
        diagnoses.when("y", lambda args, e, a: stride(args) > 1 and a["y"].shape != e["y"].shape
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


# 11 ----------------------------------------------------------------------------------------

def _attention_inputs(rng, spread=1.0):
    # values wider than queries and keys: a scale taken from v's width shows, and (dq, dk, dv) stay
    # three outputs (three arrays of one shape would be read as a single stacked one)
    n, t, d = _size(rng, 1, 3), _size(rng, 1, 6), _size(rng, 1, 5)
    q, k = (rng.normal(scale=spread, size=(n, t, d)) for _ in range(2))
    v = rng.normal(scale=spread, size=(n, t, d + _size(rng, 1, 3)))
    return q, k, v, bool(rng.integers(0, 2))


def _attention_case(rng):
    # now and then scores in the thousands, where exp overflows unless the row maximum is subtracted
    return _attention_inputs(rng, spread=float(rng.choice([1.0, 1.0, 40.0])))


def _attention_backward_case(rng):
    q, k, v, causal = _attention_inputs(rng)
    return rng.normal(size=v.shape), q, k, v, causal


def _positions_case(rng):
    return _size(rng, 1, 12), _size(rng, 1, 9)


# 14 ----------------------------------------------------------------------------------------

def _broadcast_shape(rng, shape):
    """A shape that broadcasts to ``shape``: some leading axes dropped, some sizes set to 1."""
    kept = tuple(shape)[_size(rng, 0, len(shape)):]
    return tuple(1 if rng.random() < 0.4 else n for n in kept)


def _full_shape(rng, max_ndim=3):
    return tuple(_size(rng, 2, 4) for _ in range(_size(rng, 1, max_ndim)))


def _tanh_backward_case(rng):
    x = rng.normal(0.0, 2.0, _full_shape(rng))
    return rng.normal(size=x.shape), np.tanh(x)


def _matmul_backward_case(rng):
    n, d, m = rng.permutation([_size(rng, 1, 2), _size(rng, 3, 4), _size(rng, 5, 6)])  # three sizes: no square
    return rng.normal(size=(n, m)), rng.normal(size=(n, d)), rng.normal(size=(d, m))


def _unbroadcast_case(rng):
    full = _full_shape(rng, 4)
    shape = _broadcast_shape(rng, full)
    while shape == full:  # something must be summed
        shape = _broadcast_shape(rng, full)
    return rng.normal(size=full), shape


def _mul_backward_case(rng):
    full = _full_shape(rng)
    a, b = (rng.normal(size=_broadcast_shape(rng, full)) for _ in range(2))
    if rng.random() < 0.5:
        a = rng.normal(size=full)
    return rng.normal(size=np.broadcast_shapes(a.shape, b.shape)), a, b


def _sum_axis(rng, ndim):
    """None, one axis (sometimes negative) or a tuple of axes of an ndim-array."""
    kind = rng.integers(3)
    if kind == 0:
        return None
    if kind == 1:
        return int(rng.integers(-ndim, ndim))
    return tuple(int(a) for a in sorted(rng.choice(ndim, _size(rng, 1, ndim), replace=False)))


def _sum_backward_case(rng):
    shape = _full_shape(rng, 4)
    axis, keepdims = _sum_axis(rng, len(shape)), bool(rng.integers(2))
    return rng.normal(size=np.zeros(shape).sum(axis=axis, keepdims=keepdims).shape), shape, axis, keepdims


def _evaluate_node(node, values):
    x = [values[i] for i in node["inputs"]]
    if node["op"] == "sum":
        return x[0].sum(axis=node["axis"], keepdims=node["keepdims"])
    return {"add": np.add, "mul": np.multiply, "matmul": np.matmul, "tanh": np.tanh}[node["op"]](*x)


def _graph_case(rng):
    """A random expression graph over broadcasting arrays, its nodes listed in a shuffled order.

    Operands are drawn from all earlier nodes (so some values are used several times and some not
    at all) or are new inputs whose shape broadcasts against the other operand's.
    """
    nodes, values = [], []

    def new(node, value):
        nodes.append(node)
        values.append(np.asarray(value, dtype=np.float64))
        return len(nodes) - 1

    def new_input(shape):
        return new({"op": "input", "inputs": []}, rng.normal(size=shape))

    new_input(_full_shape(rng) if rng.random() < 0.4 else (_size(rng, 2, 4), _size(rng, 2, 4)))
    while len(nodes) < 12:
        a = len(nodes) - 1 - min(int(rng.geometric(0.5)) - 1, len(nodes) - 1)  # mostly recent nodes
        shape = values[a].shape
        op = str(rng.choice(["add", "mul", "matmul", "tanh", "sum"], p=[0.2, 0.3, 0.25, 0.15, 0.1]))
        if op in ("add", "mul"):
            partners = [i for i in range(len(nodes)) if i != a and _broadcasts(values[i].shape, shape)]
            b = int(rng.choice(partners)) if partners and rng.random() < 0.6 else new_input(_broadcast_shape(rng, shape))
            inputs = [a, b] if rng.random() < 0.5 else [b, a]
            if rng.random() < 0.15:
                inputs = [a, a]  # x * x, x + x: one value, two uses
            new({"op": op, "inputs": inputs}, _evaluate_node({"op": op, "inputs": inputs}, values))
        elif op == "matmul" and len(shape) == 2:
            if rng.random() < 0.5:
                inputs = [a, new_input((shape[1], _size(rng, 1, 4)))]
            else:
                inputs = [new_input((_size(rng, 1, 4), shape[0])), a]
            new({"op": op, "inputs": inputs}, _evaluate_node({"op": op, "inputs": inputs}, values))
        elif op == "tanh":
            new({"op": op, "inputs": [a]}, np.tanh(values[a]))
        elif op == "sum" and len(shape) > 0:
            node = {"op": op, "inputs": [a], "axis": _sum_axis(rng, len(shape)), "keepdims": bool(rng.integers(2))}
            new(node, _evaluate_node(node, values))
    new({"op": "sum", "inputs": [len(nodes) - 1], "axis": None, "keepdims": False}, values[-1].sum())
    position = rng.permutation(len(nodes))  # node i is listed at position[i]
    shuffled_nodes, shuffled_values = [None] * len(nodes), [None] * len(nodes)
    for i, node in enumerate(nodes):
        shuffled_nodes[position[i]] = dict(node, inputs=[int(position[j]) for j in node["inputs"]])
        shuffled_values[position[i]] = values[i]
    return shuffled_nodes, shuffled_values, int(position[-1])


def _broadcasts(shape, target):
    """True when an array of ``shape`` combined with one of ``target`` gives the shape ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _topological_case(rng):
    nodes, _, root = _graph_case(rng)
    return nodes, root


def _valid_but_not_depth_first(args, expected, actual):
    """The order lists the right nodes, each after its inputs, but is not the depth-first one."""
    nodes, _ = args
    order, right = actual["order"].ravel().tolist(), expected["order"].tolist()
    position = {node: k for k, node in enumerate(order)}
    return (order != right and sorted(order) == sorted(right)
            and all(position[p] < position[i] for i in order for p in nodes[int(i)]["inputs"]))



# 12 ----------------------------------------------------------------------------------------

def _reparameterize_backward_case(rng):
    shape = (_size(rng, 1, 6), _size(rng, 1, 4))
    return rng.normal(size=shape), rng.standard_normal(shape), rng.normal(scale=1.5, size=shape)


def _vae_loss_case(rng):
    n, d, latent = _size(rng, 2, 8), _size(rng, 3, 16), _size(rng, 1, 4)
    x = rng.uniform(size=(n, d))
    x[rng.random((n, d)) < 0.3] = 0.0  # background pixels, as in the digits
    logits = rng.normal(scale=3.0, size=(n, d))
    # a confidently wrong pixel, where log(sigmoid(z)) or log(1 - sigmoid(z)) gives -inf
    logits[0, 0] = rng.choice([-1, 1]) * rng.uniform(40, 800)
    x[0, 0] = float(logits[0, 0] < 0)
    return x, logits, rng.normal(size=(n, latent)), rng.normal(scale=1.5, size=(n, latent))


def _vae_loss_pixel_mean(x, logits, mu, log_var):
    """The mistake of averaging the reconstruction over the pixels as well as the batch."""
    n, d = x.shape
    bce = np.sum(np.logaddexp(0.0, logits) - x * logits) / (n * d)
    return bce + 0.5 * np.sum(mu ** 2 + np.exp(log_var) - 1.0 - log_var) / n

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
                 diagnose=diagnoses.recognise(diagnoses.non_finite(
                     "s", "exp(z) / (1 + exp(z)) is inf / inf for large positive z; use it only where z < 0"))),
        Question("binary_cross_entropy_with_logits", 4, _cross_entropy_case, ref.binary_cross_entropy_with_logits,
                 "With p = sigmoid(z): -log p = log(1 + exp(-z)) and -log(1 - p) = log(1 + exp(z)); "
                 "np.logaddexp(0, t) computes log(1 + exp(t)) for any t without overflow. "
                 "dL/dz = (sigmoid(z) - y) / N.", gradient=True, outputs=("loss", "dz"),
                 diagnose=diagnoses.recognise(
                     diagnoses.non_finite("loss", "log(sigmoid(z)) is log(0) = -inf once sigmoid(z) rounds to 0 "
                                          "(z below about -745), and log(1 - sigmoid(z)) once it rounds to 1 "
                                          "(z above about 37); write the loss with the logits instead"),
                     diagnoses.when(("loss", "dz"), _confidently_wrong_loss_too_small,
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
                     diagnoses.same_as("dx", mistakes.dense_tanh_dx_without_slope, "the tanh's slope is "
                                       "missing: multiply dout by 1 - y**2 before the dense layer's gradients."),
                     diagnoses.same_as("dx", mistakes.dense_tanh_dx_tanh_twice, "the slope is 1 - y**2 with "
                                       "y = tanh(z) the output: you took tanh of the output once more."),
                     diagnoses.transposed("dw", "dw = x.T @ dz has the shape of w"),
                     diagnoses.when("db", lambda args, e, a: a["db"].shape == args[0].shape,
                                    "db has one row per example: sum it over the batch (axis 0)."))),
        Question("mlp3_loss_and_grads", 6, _mlp3_case, ref.mlp3_loss_and_grads,
                 "Forward: h1 = tanh(X @ W1 + b1), h2 = tanh(h1 @ W2 + b2), scores = h2 @ W3 + b3; "
                 "softmax_cross_entropy gives the loss and dscores (with the 1/N already in it). "
                 "Backward: the output layer, then each tanh layer: multiply by 1 - h**2, then dense.",
                 gradient=True, outputs=("loss", "dW1", "db1", "dW2", "db2", "dW3", "db3"),
                 diagnose=diagnoses.recognise(
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
                 diagnose=diagnoses.recognise(*_conv_forward_mistakes())),
        Question("conv2d_im2col", 3, _conv_case, ref.conv2d,
                 "Build cols (N, C*R*S, P*Q): for each tap (r, s), x_pad[:, :, r:r + stride*P:stride, "
                 "s:s + stride*Q:stride] is that tap's value in every window; order the rows (c, r, s) like "
                 "w.reshape(K, C*R*S); then y = w_rows @ cols + b, reshaped to (N, K, P, Q).", outputs=("y",),
                 diagnose=diagnoses.recognise(*_conv_forward_mistakes())),
        Question("conv2d_backward_naive", 5, _conv_backward_case, ref.conv2d_backward,
                 "Mirror the forward loops: each window adds dy[n,k,i,j] * w[k] into dx_pad and "
                 "dy[n,k,i,j] * window into dw[k]; crop the padding off dx at the end.", gradient=True,
                 outputs=("dx", "dw", "db"),
                 diagnose=diagnoses.recognise(
                     diagnoses.padding_not_cropped("dx", lambda args: args[4]),
                     diagnoses.assigned_not_added("dx", mistakes.conv2d_backward_dx_assigned,
                                                  partial(mistakes.conv2d_backward_dx_assigned, filters_summed=True)),
                     diagnoses.when("db", lambda args, e, a: a["db"].shape != e["db"].shape and a["db"].ndim > 1,
                                    "db sums dy over the batch and every position: dy.sum(axis=(0, 2, 3))."))),
    )),
    Exercise("05_pool", (
        Question("avg_pool_backward", 3, _avg_pool_backward_case, ref.avg_pool_backward,
                 "Every input of window (i, j) gets dy[n, c, i, j] / size**2; with stride < size the windows "
                 "overlap, so add (+=), don't assign.", gradient=True, outputs=("dx",),
                 diagnose=diagnoses.recognise(
                     diagnoses.assigned_not_added("dx", mistakes.avg_pool_backward_assigned),
                     diagnoses.same_as("dx", lambda dy, x, size, stride: ref.avg_pool_backward(dy, x, size, stride)
                                       * size ** 2, "dx is size**2 times too large: the window's mean divides "
                                       "by size**2, so each input gets dy / size**2."))),
        Question("max_pool_padded", 3, _padded_pool_case, ref.max_pool,
                 "Pad H and W with `padding` rows and columns of -inf on each side (padding must never win), "
                 "then take the max of each size x size window every `stride`; output size "
                 "(H + 2*padding - size) // stride + 1.", outputs=("y",),
                 diagnose=diagnoses.recognise(
                     diagnoses.same_as("y", mistakes.max_pool_zero_padded, "padding with zeros lets a 0 win "
                                       "windows of negative values at the border: pad with -np.inf."),
                     diagnoses.when("y", lambda args, e, a: args[3] > 0
                                    and a["y"].shape == ref.max_pool(*args[:3]).shape,
                                    "y has the size of pooling without padding: pad first."))),
        Question("max_pool_padded_backward", 4, _padded_pool_backward_case, ref.max_pool_backward,
                 "Send dy to the position of each window's max in the padded input; windows overlap when "
                 "stride < size, so add (+=); crop the padding off at the end.", gradient=True, outputs=("dx",),
                 diagnose=diagnoses.recognise(
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
    Exercise("10_normalization", (
        Question("layernorm_forward", 2, _layernorm_inputs, ref.layernorm_forward,
                 "Mean and variance of each row (axis=1, keepdims=True, the biased variance); "
                 "y = gamma * (x - mean) / sqrt(var + eps) + beta.",
                 outputs=("y",), diagnose=diagnoses.recognise(
                     diagnoses.same_as("y", mistakes.layernorm_over_the_batch, "y is batch norm: each column was "
                                       "standardised over the batch; layer norm takes each row (axis=1)."),
                     diagnoses.same_as("y", mistakes.layernorm_unbiased_variance, "the variance is divided by D - 1: "
                                       "layer norm uses the biased variance, the mean of (x - mean)**2."),
                     diagnoses.same_as("y", mistakes.layernorm_eps_outside_the_root, "eps is added to the standard "
                                       "deviation: it belongs under the root, sqrt(var + eps)."))),
        Question("layernorm_backward", 4, _layernorm_backward_case, ref.layernorm_backward,
                 "dgamma = sum over rows of dy * x_hat, dbeta = sum of dy; with g = dy * gamma, "
                 "dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps), means taken along each row.",
                 gradient=True, outputs=("dx", "dgamma", "dbeta"), diagnose=diagnoses.recognise(
                     diagnoses.same_as("dx", mistakes.layernorm_dx_with_constant_statistics, "dx = dy * gamma / std "
                                       "treats the row's mean and variance as constants, but both depend on every "
                                       "entry of the row."),
                     diagnoses.same_as("dx", mistakes.layernorm_dx_without_the_variance, "dx has the path through "
                                       "the mean but not the one through the variance: subtract x_hat * "
                                       "mean(g * x_hat) too."),
                     diagnoses.same_as("dgamma", mistakes.layernorm_dgamma_with_x, "dgamma uses x: gamma multiplies "
                                       "x_hat, so dgamma sums dy * x_hat."))),
        Question("residual_block_forward", 1, _residual_inputs, ref.residual_block_forward,
                 "y = x + relu(x @ W1 + b1) @ W2 + b2: the block's output is added to its own input.",
                 outputs=("y",), diagnose=diagnoses.recognise(
                     diagnoses.same_as("y", mistakes.residual_without_the_skip, "y is F(x) alone: add the "
                                               "input x, the skip connection."))),
        Question("residual_block_backward", 3, _residual_backward_case, ref.residual_block_backward,
                 "Back through the second dense layer, the ReLU mask and the first dense layer as in "
                 "exercise 03; then add dy to dx for the skip.",
                 gradient=True, outputs=("dx", "dW1", "db1", "dW2", "db2"), diagnose=diagnoses.recognise(
                     diagnoses.same_as("dx", mistakes.residual_dx_without_the_skip, "dx misses the skip connection: "
                                       "y = x + F(x), so dy reaches x directly as well as through F."),
                     diagnoses.same_as("dx", mistakes.residual_dx_without_the_relu, "dx ignores the ReLU: it passes "
                                       "gradient only where x @ W1 + b1 > 0."))),
    )),
    Exercise("11_attention", (
        Question("sinusoidal_positions", 2, _positions_case, ref.sinusoidal_positions,
                 "Column 2i is sin(t / 10000**(2i / D)) and column 2i + 1 is cos of the same angle; t runs "
                 "over 0 .. T-1; an odd D ends with a sine column.", outputs=("positions",),
                 diagnose=diagnoses.recognise(
                     diagnoses.same_as("positions", mistakes.positions_sines_then_cosines, "all the sines come "
                                       "first and the cosines after them: here sine and cosine alternate, column "
                                       "2i the sine and 2i + 1 the cosine of the same angle."),
                     diagnoses.same_as("positions", mistakes.positions_frequency_per_column, "every column has "
                                       "its own frequency: a sine and its cosine share one, 10000**(2i / D) for "
                                       "columns 2i and 2i + 1."))),
        Question("attention_forward", 3, _attention_case, ref.attention_forward,
                 "scores = q @ k.transpose(0, 2, 1) / sqrt(d), shape (N, T, T); with causal, set the scores "
                 "above the diagonal (key j > query i) to -inf; softmax over the last axis after subtracting "
                 "each row's maximum; out = weights @ v.", outputs=("out",),
                 diagnose=diagnoses.recognise(
                     diagnoses.same_as("out", mistakes.attention_without_the_scale, "the scores are not divided "
                                       "by sqrt(d), d = q.shape[2]."),
                     diagnoses.same_as("out", mistakes.attention_without_the_mask, "the causal mask is missing: "
                                       "with causal=True, query i must not see the keys j > i."),
                     diagnoses.same_as("out", mistakes.attention_softmax_over_the_queries, "the softmax runs down "
                                       "the columns of the (T, T) scores: each query's weights, one row, must "
                                       "sum to 1 (axis=-1)."))),
        Question("attention_backward", 5, _attention_backward_case, ref.attention_backward,
                 "Recompute the weights P. dv = P^T @ dout; dP = dout @ v^T; through the softmax "
                 "dS = P * (dP - sum(dP * P, axis=-1, keepdims=True)) (masked entries have P = 0, so they "
                 "get no gradient); dq = dS @ k / sqrt(d), dk = dS^T @ q / sqrt(d).",
                 gradient=True, outputs=("dq", "dk", "dv"), diagnose=diagnoses.recognise(
                     diagnoses.same_as("dq", mistakes.attention_dq_without_the_scale, "dq misses the 1 / sqrt(d) "
                                       "by which the scores were divided."),
                     diagnoses.same_as("dk", mistakes.attention_dk_without_the_scale, "dk misses the 1 / sqrt(d) "
                                       "by which the scores were divided."),
                     diagnoses.same_as("dv", mistakes.attention_dv_with_the_weights_untransposed, "dv is P @ dout: "
                                       "value j is used by every query i with weight P[i, j], so dv = P^T @ dout."))),
    )),
    Exercise("14_autograd", (
        Question("tanh_backward", 1, _tanh_backward_case, ref.tanh_backward,
                 "d tanh(x)/dx = 1 - tanh(x)**2, and out is tanh(x): dx = dout * (1 - out**2).",
                 gradient=True, outputs=("dx",), diagnose=diagnoses.recognise(
                     diagnoses.same_as("dx", mistakes.tanh_backward_tanh_twice, "out is tanh(x) already: "
                                                "the local derivative is 1 - out**2, with no second tanh."))),
        Question("matmul_backward", 1, _matmul_backward_case, ref.matmul_backward,
                 "da = dout @ b.T and db = a.T @ dout; check the shapes: (N, M) @ (M, D) and (D, N) @ (N, M).",
                 gradient=True, outputs=("da", "db"), diagnose=diagnoses.recognise(
                     diagnoses.transposed("da"), diagnoses.transposed("db"))),
        Question("unbroadcast", 1.5, _unbroadcast_case, ref.unbroadcast,
                 "First sum grad over axis 0 until it has len(shape) axes; then, for every axis where shape "
                 "has size 1 and grad does not, sum with keepdims=True.", gradient=True, outputs=("grad",),
                 diagnose=diagnoses.recognise(diagnoses.same_as(
                     "grad", mistakes.unbroadcast_leading_axes_only, "only the leading axes were summed: an input "
                     "axis of size 1 was copied too, so sum grad over it as well, with keepdims=True."))),
        Question("mul_backward", 1, _mul_backward_case, ref.mul_backward,
                 "da = unbroadcast(dout * b, a.shape), db = unbroadcast(dout * a, b.shape).",
                 gradient=True, outputs=("da", "db")),
        Question("sum_backward", 1.5, _sum_backward_case, ref.sum_backward,
                 "Every summed entry gets dout: when keepdims is False, put the summed axes back with size 1 "
                 "(np.expand_dims(dout, axis)), then np.broadcast_to(..., input_shape); axis=None "
                 "sums every axis.", gradient=True, outputs=("dx",), diagnose=diagnoses.recognise(
                     diagnoses.same_as("dx", mistakes.sum_backward_axes_not_restored, "dout was broadcast "
                                                "without putting the summed axes back, so it lined up with the wrong "
                                                "axes: with keepdims=False, np.expand_dims(dout, axes) first."))),
        Question("topological_order", 1.5, _topological_case, ref.topological_order,
                 "Depth-first from root: visit(i) does nothing for a node already visited; otherwise it "
                 "visits nodes[i]['inputs'] in their order and then appends i.",
                 outputs=("order",), diagnose=diagnoses.recognise(diagnoses.when(
                     "order", _valid_but_not_depth_first, "your order is a valid topological order, but not the "
                     "depth-first one asked for: visit the inputs in the order they are listed and append a node "
                     "when all its inputs are done."))),
        Question("backward_pass", 2.5, _graph_case, ref.backward_pass,
                 "Start every gradient at zeros and root's at 1; walk reversed(topological_order(nodes, root)) "
                 "and add (+=) each node's shares into its inputs' gradients: a value used twice gets both.",
                 gradient=True),
    )),
    Exercise("12_generative", (
        Question("reparameterize_backward", 4, _reparameterize_backward_case, ref.reparameterize_backward,
                 "z = mu + sigma * eps with sigma = exp(log_var / 2): dz/dmu = 1, and "
                 "dz/dlog_var = eps * d sigma/d log_var = eps * sigma / 2. Multiply each by dz.",
                 gradient=True, outputs=("dmu", "dlog_var"),
                 diagnose=diagnoses.recognise(
                     diagnoses.same_as("dlog_var", lambda dz, eps, log_var: dz * eps * np.exp(0.5 * log_var),
                                       "dlog_var is twice too large: d/dv exp(v / 2) = exp(v / 2) / 2."),
                     diagnoses.same_as("dlog_var", lambda dz, eps, log_var: dz * eps,
                                       "dz * eps is the gradient with respect to sigma, not log_var: chain it "
                                       "through sigma = exp(log_var / 2), whose slope is sigma / 2."))),
        Question("vae_loss", 6, _vae_loss_case, ref.vae_loss,
                 "Per example: the binary cross-entropy summed over the D pixels, log(1 + e^z) - x z with "
                 "np.logaddexp(0, z), plus 0.5 * sum(mu**2 + exp(log_var) - 1 - log_var) over the latents; "
                 "the loss is the mean over the N examples, so every gradient carries 1/N: "
                 "dlogits = (sigmoid(z) - x) / N, dmu = mu / N, dlog_var = (exp(log_var) - 1) / (2 N).",
                 gradient=True, outputs=("loss", "dlogits", "dmu", "dlog_var"),
                 diagnose=diagnoses.recognise(
                     diagnoses.non_finite("loss", "log(sigmoid(z)) is log(0) = -inf for a confidently wrong "
                                          "pixel; write the cross-entropy with the logits, np.logaddexp(0, z) - x z"),
                     diagnoses.same_as("loss", _vae_loss_pixel_mean, "the reconstruction is averaged over the "
                                       "pixels: the ELBO sums it over the pixels of each image and averages "
                                       "over the examples only."),
                     *(diagnoses.off_by_batch(name, _batch_size, too_large="the loss is the mean over the N "
                                              "examples, so each gradient carries a factor 1/N")
                       for name in ("loss", "dlogits", "dmu", "dlog_var")),
                     diagnoses.same_as("dlog_var", lambda x, z, mu, log_var: (np.exp(log_var) - 1) / len(x),
                                       "dlog_var is twice too large: the KL has 1/2 in front."),
                     diagnoses.sign_flipped("dlogits", "dlogits = (sigmoid(z) - x) / N"))),
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
