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
    tanh, topological = QUESTIONS["tanh_backward"], QUESTIONS["topological_order"]
    dout, out = args = cases("tanh_backward")[0]
    right = [ref.tanh_backward(*args)]
    assert "no second tanh" in tanh.diagnose(args, right, [dout * (1 - np.tanh(out) ** 2)])
    assert tanh.diagnose(args, right, right) is None
    for nodes, root in cases("topological_order"):
        right = [np.array(ref.topological_order(nodes, root))]
        kahn = breadth_first_order(nodes, root)
        if kahn != right[0].tolist():
            assert "valid topological order" in topological.diagnose((nodes, root), right, [np.array(kahn)])
        assert topological.diagnose((nodes, root), right, right) is None
        assert topological.diagnose((nodes, root), right, [right[0][::-1]]) is None  # not valid: no such remark


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
