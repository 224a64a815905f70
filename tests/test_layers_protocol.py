"""The layer protocol, for every layer: dy untouched, repeatable backward, grads keys == params
keys, dotted names in composites, live parameter arrays, reproducible construction, clear errors."""
import re

import numpy as np
import pytest

import nutshell_lib as nl
from layer_cases import F64, cases
from nutshell_lib.layers import (
    LSTM, RNN, BatchNorm1D, BatchNorm2D, Composite, Conv2D, Dense, Dropout, GaussianSample, Inception, MaxPool2D, ReLU,
    Residual, Sequential, Tanh,
)
from nutshell_lib.optim import SGD

CASES = cases() + [("Dropout", lambda: Dropout(0.3, rng=0), lambda r: r.standard_normal((4, 5))),
                   ("GaussianSample", lambda: GaussianSample(rng=0), lambda r: r.standard_normal((4, 6)))]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, make_layer, make_input", CASES, ids=IDS)
def test_backward_leaves_dy_alone_and_repeats(name, make_layer, make_input):
    rng = np.random.default_rng(0)
    layer = make_layer()
    y = layer.forward(make_input(rng))
    dy = rng.standard_normal(y.shape)
    dy_before = dy.copy()
    dx_first = layer.backward(dy)
    grads_first = {k: v.copy() for k, v in layer.grads.items()}
    dx_second = layer.backward(dy)
    np.testing.assert_array_equal(dy, dy_before)
    np.testing.assert_array_equal(dx_first, dx_second)
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, grads_first[key])


@pytest.mark.parametrize("name, make_layer, make_input", CASES, ids=IDS)
def test_grads_have_the_params_keys_and_shapes(name, make_layer, make_input):
    layer = make_layer()
    assert layer.grads.keys() == layer.params.keys()  # before any backward, too
    y = layer.forward(make_input(np.random.default_rng(0)))
    layer.backward(np.ones_like(y))
    assert layer.grads.keys() == layer.params.keys()
    for key in layer.params:
        assert layer.grads[key].shape == layer.params[key].shape


@pytest.mark.parametrize("name, make_layer, make_input", CASES, ids=IDS)
def test_backward_before_forward_is_an_error(name, make_layer, make_input):
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        make_layer().backward(np.ones((2, 2)))


def test_grads_are_replaced_not_accumulated():
    layer = Dense(3, 2, rng=0, dtype=F64)
    x, dy = np.ones((1, 3)), np.ones((1, 2))
    layer.forward(x)
    layer.backward(dy)
    layer.backward(dy)
    np.testing.assert_array_equal(layer.grads["W"], np.ones((3, 2)))


def test_sequential_dotted_names_are_the_childrens_live_arrays():
    model = Sequential([Dense(4, 8, rng=0), ReLU(), Dense(8, 3, rng=1)])
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert model.params["2.W"] is model[2].params["W"]
    model.params["0.b"] += 1.0  # what an optimizer does
    assert (model[0].params["b"] == 1.0).all()
    model.forward(np.ones((5, 4), np.float32))
    model.backward(np.ones((5, 3), np.float32))
    assert model.grads["2.W"] is model[2].grads["W"]


def test_sequential_layers_are_read_only_so_params_cannot_miss_a_layer():
    model = Sequential([Dense(3, 3, rng=0)])
    with pytest.raises(TypeError, match=re.escape("Sequential.layers is read-only; build a new model")):
        model.layers.append(Dense(3, 1, rng=1))
    with pytest.raises(TypeError, match="read-only"):
        model.layers[0] = Dense(3, 1, rng=1)
    with pytest.raises(TypeError, match="does not support item assignment"):
        model.children["1"] = Dense(3, 1, rng=1)
    assert model.layers == (model[0],) and list(model.params) == ["0.W", "0.b"]
    longer = Sequential([*model.layers, Dense(3, 1, rng=1)])  # the documented way: a new model
    assert list(longer.params) == ["0.W", "0.b", "1.W", "1.b"]
    assert longer.params["0.W"] is model.params["0.W"]
    assert longer.forward(np.ones((2, 3))).shape == (2, 1)


def test_composite_params_are_read_only_views_of_live_arrays():
    model = Sequential([Dense(3, 2, rng=0), ReLU(), BatchNorm1D(2)])
    W = model[0].params["W"]
    for kind in ("params", "grads", "buffers"):
        arrays = getattr(model, kind)
        key = next(iter(arrays))
        with pytest.raises(TypeError, match=re.escape(f"Sequential.{kind} is a read-only view of its parts' arrays, "
                                                      f"so {kind}[{key!r}] = ... cannot replace one")):
            arrays[key] = np.zeros_like(arrays[key])
        with pytest.raises(TypeError, match=re.escape(f"{key!r} cannot be deleted")):
            del arrays[key]
    assert model[0].params["W"] is W  # nothing was replaced
    model.params["0.W"][...] = 2.0
    model.params["0.W"] -= 0.5  # augmented assignment stores the same array back: allowed
    np.testing.assert_array_equal(W, 1.5)
    with pytest.raises(KeyError):
        model.params["0"]
    assert "0.W" in model.params and "1.W" not in model.params and len(model.params) == 4


def test_composite_views_follow_replaced_grads_and_children():
    model = Sequential([Dense(3, 2, rng=0)])
    grads = model.grads
    model.forward(np.ones((4, 3)))
    model.backward(np.ones((4, 2)))  # Dense replaces its grads arrays
    assert grads["0.W"] is model[0].grads["W"]
    np.testing.assert_array_equal(grads["0.W"], 4.0)


def test_optimizer_trains_every_part_of_a_nested_composite():
    rng = np.random.default_rng(0)
    body = Sequential([Tanh(), Dense(4, 4, rng=1, dtype=np.float64)])
    model = Sequential([Dense(3, 4, rng=0, dtype=np.float64), Residual(body)])
    assert list(model.params) == ["0.W", "0.b", "1.body.1.W", "1.body.1.b"]
    before = {name: array.copy() for name, array in model.params.items()}
    model.forward(rng.standard_normal((5, 3)))
    model.backward(rng.standard_normal((5, 4)))
    SGD(model, lr=0.1).step()
    inner = model[1].body[1]
    np.testing.assert_allclose(inner.params["W"], before["1.body.1.W"] - 0.1 * inner.grads["W"], rtol=1e-12)
    np.testing.assert_allclose(model[0].params["b"], before["0.b"] - 0.1 * model[0].grads["b"], rtol=1e-12)


@pytest.mark.parametrize("children, error, message", [
    ({"a.b": ReLU()}, ValueError, "Composite: part names must be non-empty strings without dots, got 'a.b'"),
    ({"": ReLU()}, ValueError, "Composite: part names must be non-empty strings without dots, got ''"),
    ({"a": "relu"}, TypeError, "Composite: part 'a' must be a Layer, got str"),
])
def test_composite_checks_its_parts(children, error, message):
    with pytest.raises(error, match=re.escape(message)):
        Composite(children)


def test_nested_and_inception_names():
    block = Inception(3, 2, 2, 3, 1, 2, 2, rng=0)
    model = Sequential([Conv2D(1, 3, 3, padding=1, rng=0), block])
    names = set(model.params)
    assert {"0.W", "1.branch1.0.W", "1.branch3.0.b", "1.branch3.2.W", "1.branch5.2.W",
            "1.branch_pool.1.W"} <= names
    assert model.params["1.branch3.2.W"].shape == (3, 2, 3, 3)
    assert model.params["1.branch5.2.W"].shape == (2, 1, 5, 5)
    assert set(model.grads) == names


def test_buffers_are_named_like_params():
    model = Sequential([Conv2D(1, 2, 3, rng=0), BatchNorm2D(2)])
    assert set(model.buffers) == {"1.running_mean", "1.running_var"}
    assert model.buffers["1.running_mean"] is model[1].buffers["running_mean"]


@pytest.mark.parametrize("make_layer", [
    lambda seed: Dense(5, 4, rng=seed), lambda seed: Conv2D(2, 3, 3, rng=seed),
    lambda seed: LSTM(3, 4, rng=seed), lambda seed: RNN(3, 4, rng=seed),
    lambda seed: Inception(3, 2, 2, 3, 1, 2, 2, rng=seed),
])
def test_construction_is_reproducible_from_a_seed(make_layer):
    np.random.seed(123)  # the global state must not matter
    first = make_layer(7).params
    np.random.seed(456)
    second, other = make_layer(7).params, make_layer(8).params
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert any(not np.array_equal(first[k], other[k]) for k in first if first[k].any())


def test_generator_is_shared_so_layers_differ():
    rng = np.random.default_rng(0)
    a, b = Dense(3, 3, rng=rng), Dense(3, 3, rng=rng)
    assert not np.array_equal(a.params["W"], b.params["W"])


def test_default_dtype_is_float32_and_input_is_cast():
    layer = Dense(3, 2, rng=0)
    y = layer.forward(np.ones((2, 3)))  # float64 in
    assert layer.params["W"].dtype == np.float32 and y.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda: Dense(4, 3).forward(np.zeros((2, 5))), "Dense(4 -> 3): expected input (N, ..., 4), got (2, 5)"),
    (lambda: Dense(4, 3).forward(np.zeros(4)), "Dense(4 -> 3): expected input (N, ..., 4), got (4,)"),
    (lambda: Conv2D(3, 6, 5).forward(np.zeros((2, 1, 32, 32))),
     "Conv2D(3 -> 6, 5x5, stride=1, padding=0): expected input (N, 3, H, W), got (2, 1, 32, 32)"),
    (lambda: Conv2D(3, 6, 5).forward(np.zeros((2, 3, 4, 32))), "has H=4, too small for the 5-wide kernel"),
    (lambda: MaxPool2D(2).forward(np.zeros((2, 3, 1, 4))), "has H=1, smaller than the window 2"),
    (lambda: LSTM(3, 4).forward(np.zeros((2, 3))), "LSTM(3 -> 4): expected input (N, T, 3), got (2, 3)"),
    (lambda: BatchNorm1D(3).forward(np.zeros((4, 2))), "BatchNorm1D(3): expected input (N, 3), got (4, 2)"),
    (lambda: BatchNorm2D(3).forward(np.zeros((1, 3, 1, 1))), "training needs more than one value per feature"),
    (lambda: Inception(3, 1, 1, 1, 1, 1, 1).forward(np.zeros((1, 2, 4, 4))),
     "expected input (N, 3, H, W), got (1, 2, 4, 4)"),
    (lambda: Sequential([Dense(4, 3), Dense(2, 1)]).forward(np.zeros((1, 4))),
     "Sequential layer 1: Dense(2 -> 1): expected input (N, ..., 2), got (1, 3)"),
    (lambda: Dense(0, 3), "Dense(0 -> 3): in_features must be a positive int, got 0"),
    (lambda: Conv2D(3, 6, 0), "Conv2D(3 -> 6): kernel_size must be positive, got 0"),
    (lambda: Conv2D(3, 6, 3, padding=-1), "Conv2D(3 -> 6): padding must be >= 0, got -1"),
    (lambda: MaxPool2D(2, padding=2), "MaxPool2D: padding (2, 2) must be smaller than the window (2, 2)"),
    (lambda: Dropout(1.0), "Dropout: p must be a probability in [0, 1), got 1.0"),
    (lambda: LSTM(3, 0), "LSTM(3 -> 0): hidden_size must be a positive int, got 0"),
    (lambda: Inception(3, 2, 0, 3, 1, 2, 2), "Inception: n3x3_reduce must be a positive int, got 0"),
    (lambda: Dense(3, 2, dtype=np.int32), "Dense(3 -> 2): dtype must be float32 or float64, got int32"),
    (lambda: Sequential([]), "Sequential: needs at least one layer"),
    (lambda: Residual(Dense(4, 3)).forward(np.zeros((2, 4))),
     "Residual: the body maps input (2, 4) to (2, 3); x + body(x) needs the same shape"),
])
def test_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: Dense(4, 2.5), "Dense(4 -> 2.5): out_features must be a positive int, got 2.5"),
    (lambda: Conv2D(3, 6, 3, stride=1.5), "Conv2D(3 -> 6): stride must be an int or a pair of ints (h, w), got 1.5"),
    (lambda: MaxPool2D(2.0), "MaxPool2D: size must be an int or a pair of ints (h, w), got 2.0"),
    (lambda: Dense(3, 2, dtype="no such type"), "Dense(3 -> 2): dtype must be float32 or float64, got 'no such type'"),
    (lambda: Sequential([Dense(2, 2)]).forward(np.array([["a", "b"]])),
     "Sequential layer 0: Dense(2 -> 2): expected a real-valued input array, got dtype <U1"),
])
def test_clear_type_errors(call, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("argument, error", [(1.5, TypeError), ("2", TypeError), (0, ValueError), (-1, ValueError)])
def test_functional_op_and_layer_raise_the_same_type(argument, error):
    with pytest.raises(error, match="stride"):
        nl.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), stride=argument)
    with pytest.raises(error, match="stride"):
        Conv2D(1, 1, 3, stride=argument)
    with pytest.raises(error, match="stride"):
        MaxPool2D(2, stride=argument)


def test_backward_checks_dy_shape():
    layer = Dense(4, 3)
    layer.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=re.escape("Dense(4 -> 3): backward expected dy of the output's shape (2, 3), got (2, 4)")):
        layer.backward(np.zeros((2, 4)))


def test_non_layer_in_sequential_is_a_type_error():
    with pytest.raises(TypeError, match="part '1' must be a Layer, got ufunc"):
        Sequential([Dense(2, 2), np.tanh])
