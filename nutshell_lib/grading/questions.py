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


def _looks_like(actual, mistake, expected):
    """True when ``actual`` equals a known mistake's result and that mistake is not the right answer."""
    return (actual.shape == np.shape(mistake) and np.allclose(actual, mistake, rtol=1e-6, atol=1e-8)
            and not np.allclose(mistake, expected, rtol=1e-6, atol=1e-8))


def _diagnose_tanh_backward(args, expected, actual):
    dout, out = args
    if actual and _looks_like(actual[0], dout * (1 - np.tanh(out) ** 2), expected[0]):
        return "out is tanh(x) already: the local derivative is 1 - out**2, with no second tanh."
    return None


def _diagnose_topological_order(args, expected, actual):
    nodes, root = args
    order = actual[0].ravel().tolist() if actual else []
    position = {node: k for k, node in enumerate(order)}
    valid = (sorted(order) == sorted(expected[0].tolist())
             and all(position[p] < position[i] for i in order for p in nodes[i]["inputs"]))
    if valid and order != expected[0].tolist():
        return ("your order is a valid topological order, but not the depth-first one asked for: visit the "
                "inputs in the order they are listed and append a node when all its inputs are done.")
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
    Exercise("14_autograd", (
        Question("tanh_backward", 1, _tanh_backward_case, ref.tanh_backward,
                 "d tanh(x)/dx = 1 - tanh(x)**2, and out is tanh(x): dx = dout * (1 - out**2).",
                 gradient=True, outputs=("dx",), diagnose=_diagnose_tanh_backward),
        Question("matmul_backward", 1, _matmul_backward_case, ref.matmul_backward,
                 "da = dout @ b.T and db = a.T @ dout; check the shapes: (N, M) @ (M, D) and (D, N) @ (N, M).",
                 gradient=True, outputs=("da", "db")),
        Question("unbroadcast", 1.5, _unbroadcast_case, ref.unbroadcast,
                 "First sum grad over axis 0 until it has len(shape) axes; then, for every axis where shape "
                 "has size 1 and grad does not, sum with keepdims=True.", gradient=True, outputs=("grad",)),
        Question("mul_backward", 1, _mul_backward_case, ref.mul_backward,
                 "da = unbroadcast(dout * b, a.shape), db = unbroadcast(dout * a, b.shape).",
                 gradient=True, outputs=("da", "db")),
        Question("sum_backward", 1.5, _sum_backward_case, ref.sum_backward,
                 "Every summed entry gets dout: when keepdims is False, put the summed axes back with size 1 "
                 "(np.expand_dims, axes made non-negative), then np.broadcast_to(..., input_shape); axis=None "
                 "sums every axis.", gradient=True, outputs=("dx",)),
        Question("topological_order", 1.5, _topological_case, ref.topological_order,
                 "Depth-first from root: visit(i) does nothing for a node already visited; otherwise it "
                 "visits nodes[i]['inputs'] in their order and then appends i.",
                 outputs=("order",), diagnose=_diagnose_topological_order),
        Question("backward_pass", 2.5, _graph_case, ref.backward_pass,
                 "Start every gradient at zeros and root's at 1; walk reversed(topological_order(nodes, root)) "
                 "and add (+=) each node's shares into its inputs' gradients: a value used twice gets both.",
                 gradient=True),
    )),
)}

QUESTIONS = {q.name: q for exercise in EXERCISES.values() for q in exercise.questions}
