"""Freezing parameters (optimizers and clipping skip them) and loading part of a saved model."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nutshell_lib.layers import (
    BatchNorm2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Residual, Sequential, freeze, load_into, save,
    trainable_names, unfreeze,
)
from nutshell_lib.losses import softmax_cross_entropy
from nutshell_lib.optim import SGD, Adam, AdamW, clip_grad_norm
from nutshell_lib.training import fit


def small_cnn(classes=3, seed=0):
    rng = np.random.default_rng(seed)
    features = Sequential([Conv2D(1, 4, 3, padding=1, rng=rng), BatchNorm2D(4), ReLU(), MaxPool2D(2), Flatten()])
    return Sequential({"features": features, "head": Dense(4 * 4 * 4, classes, rng=rng)})


def data(n=24, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, n)


def copies(model):
    return {name: array.copy() for name, array in model.params.items()}


def test_composite_sees_what_its_parts_freeze():
    model = small_cnn()
    assert set(model.frozen) == set() and len(model.frozen) == 0
    freeze(model.children["features"])
    expected = {"features.0.W", "features.0.b", "features.1.gamma", "features.1.beta"}
    assert set(model.frozen) == expected and len(model.frozen) == 4
    assert "features.0.W" in model.frozen and "head.W" not in model.frozen and "nonsense" not in model.frozen
    assert model.children["features"].frozen == {"0.W", "0.b", "1.gamma", "1.beta"}
    assert trainable_names(model) == ["head.W", "head.b"]
    # a model built later around the same parts sees the same frozen arrays: the parts are the record
    wider = Sequential([model, ReLU(), Dense(3, 2, rng=0)])
    assert set(wider.frozen) == {f"0.{name}" for name in expected}
    with pytest.raises(AttributeError):
        model.frozen.add("head.W")  # a view: freeze the layer instead
    unfreeze(model)
    assert len(model.frozen) == 0 and len(wider.frozen) == 0


def test_nested_composites_and_refusals():
    block = Residual(Sequential([Dense(4, 4, rng=0), ReLU()]))
    model = Sequential([Dense(3, 4, rng=1), block])
    freeze(block)
    assert set(model.frozen) == {"1.body.0.W", "1.body.0.b"}
    freeze(model[0])
    assert trainable_names(model) == []
    unfreeze(block)
    assert trainable_names(model) == ["1.body.0.W", "1.body.0.b"]
    with pytest.raises(TypeError, match="freeze: expected a Layer.*got dict"):
        freeze({"W": np.zeros(3)})
    with pytest.raises(TypeError, match="unfreeze: expected a Layer.*got int"):
        unfreeze(3)


@pytest.mark.parametrize("make_optimizer", [
    lambda m: SGD(m, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda m: SGD(m, lr=0.1, momentum=0.9, nesterov=True),
    lambda m: Adam(m, lr=0.01, weight_decay=1e-3),
    lambda m: AdamW(m, lr=0.01),
], ids=["sgd", "nesterov", "adam", "adamw"])
def test_frozen_weights_stay_bit_identical_through_fit(make_optimizer):
    model = small_cnn()
    freeze(model.children["features"])
    before = copies(model)
    X, y = data()
    fit(model, softmax_cross_entropy, make_optimizer(model), X, y, epochs=3, batch_size=8, progress=False,
        max_grad_norm=1.0)
    for name, array in model.params.items():
        if name.startswith("features."):
            assert np.array_equal(array, before[name]), name
        else:
            assert not np.array_equal(array, before[name]), name
    # the frozen layer's gradients were computed (backward ran through it), just never applied
    assert np.abs(model.grads["features.0.W"]).sum() > 0


def test_freezing_only_the_head_trains_only_the_features():
    model = small_cnn()
    freeze(model.children["head"])
    before = copies(model)
    X, y = data()
    fit(model, softmax_cross_entropy, SGD(model, lr=0.05), X, y, epochs=2, batch_size=8, progress=False)
    changed = {name for name, array in model.params.items() if not np.array_equal(array, before[name])}
    assert changed == {"features.0.W", "features.0.b", "features.1.gamma", "features.1.beta"}


def test_plain_sgd_step_on_the_others_is_unchanged_by_freezing():
    # oracle: p - lr * g written out for the trainable arrays, the frozen ones untouched
    model = Sequential([Dense(5, 4, rng=0), ReLU(), Dense(4, 3, rng=1)])
    x = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    freeze(model[0])
    _, dlogits = softmax_cross_entropy(model.forward(x), np.array([0, 1, 2, 0, 1, 2]))
    model.backward(dlogits)
    before, grads = copies(model), {name: g.copy() for name, g in model.grads.items()}
    SGD(model, lr=0.3).step()
    np.testing.assert_array_equal(model.params["0.W"], before["0.W"])
    np.testing.assert_array_equal(model.params["0.b"], before["0.b"])
    for name in ("2.W", "2.b"):
        np.testing.assert_allclose(model.params[name], before[name] - 0.3 * grads[name], rtol=1e-6)


def test_adam_counts_steps_per_parameter_after_unfreezing():
    # A parameter unfrozen after k steps takes Adam's *first* step: with bias correction that is
    # lr * g / (|g| + eps) elementwise, whatever k is.
    model = Sequential([Dense(3, 2, rng=0)])
    optimizer = Adam(model, lr=0.01)
    rng = np.random.default_rng(0)
    freeze(model[0])
    for _ in range(5):
        model.grads["0.W"][...] = rng.standard_normal((3, 2))
        optimizer.step()
    assert "0.W" not in optimizer.state or not optimizer.state["0.W"]
    unfreeze(model[0])
    gradient = rng.standard_normal((3, 2)).astype(np.float32)
    model.grads["0.W"][...] = gradient
    before = model.params["0.W"].copy()
    optimizer.step()
    np.testing.assert_allclose(model.params["0.W"], before - 0.01 * gradient / (np.abs(gradient) + 1e-8), rtol=1e-5)


def test_clipping_leaves_frozen_gradients_out():
    model = Sequential([Dense(4, 3, rng=0), Dense(3, 2, rng=1)])
    rng = np.random.default_rng(3)
    for grad in model.grads.values():
        grad[...] = rng.standard_normal(grad.shape)
    freeze(model[0])
    frozen_before = model.grads["0.W"].copy()
    others = [model.grads[name].astype(np.float64).copy() for name in ("1.W", "1.b")]
    expected_norm = np.sqrt(sum((g ** 2).sum() for g in others))
    norm = clip_grad_norm(model, 0.5)
    np.testing.assert_allclose(norm, expected_norm, rtol=1e-6)
    np.testing.assert_array_equal(model.grads["0.W"], frozen_before)
    for name, g in zip(("1.W", "1.b"), others):
        np.testing.assert_allclose(model.grads[name], g * 0.5 / (expected_norm + 1e-6), rtol=1e-5)


@settings(max_examples=20, deadline=None)
@given(hidden=st.integers(2, 6), new_hidden=st.integers(2, 6), classes=st.integers(2, 5),
       new_classes=st.integers(2, 5), extra=st.booleans())
def test_partial_load_copies_exactly_the_arrays_that_fit(tmp_path_factory, hidden, new_hidden, classes,
                                                        new_classes, extra):
    path = tmp_path_factory.mktemp("load") / "saved.npz"
    saved = Sequential({"conv": Conv2D(2, 3, 3, rng=0), "flat": Flatten(),
                        "hidden": Dense(3 * 4 * 4, hidden, rng=1), "head": Dense(hidden, classes, rng=2)})
    save(saved, path)
    parts = {"conv": Conv2D(2, 3, 3, rng=5), "flat": Flatten(),
             "hidden": Dense(3 * 4 * 4, new_hidden, rng=6), "head": Dense(new_hidden, new_classes, rng=7)}
    if extra:
        parts["extra"] = Dense(new_classes, 2, rng=8)
    model = Sequential(parts)
    before = copies(model)
    report = load_into(model, path, strict=False)
    expected = {"conv.W", "conv.b"}
    expected |= {"hidden.W", "hidden.b"} if new_hidden == hidden else set()
    expected |= {"head.W"} if (new_hidden, new_classes) == (hidden, classes) else set()
    expected |= {"head.b"} if new_classes == classes else set()
    assert set(report.loaded) == expected
    assert report.missing == (["extra.W", "extra.b"] if extra else [])
    assert report.unexpected == []
    assert {entry.split(":")[0] for entry in report.misshapen} == set(saved.params) - expected
    for name, array in model.params.items():
        np.testing.assert_array_equal(array, saved.params[name] if name in expected else before[name])


def test_partial_load_names_what_the_file_has_in_excess(tmp_path):
    path = tmp_path / "big.npz"
    save(Sequential([Dense(3, 4, rng=0), Dense(4, 2, rng=1)]), path)
    model = Sequential([Dense(3, 4, rng=2)])
    W = model.params["0.W"]
    report = load_into(model, path, strict=False)
    assert report.loaded == ["0.W", "0.b"] and report.unexpected == ["1.W", "1.b"]
    assert report.missing == [] and report.misshapen == []
    assert model.params["0.W"] is W  # in place
    assert str(report) == "loaded 2 arrays; unexpected ['1.W', '1.b']"
    strict_model = Sequential([Dense(3, 4, rng=3)])
    untouched = strict_model.params["0.W"].copy()
    with pytest.raises(ValueError, match=r"unexpected arrays \['1.W', '1.b'\]"):
        load_into(strict_model, path)
    np.testing.assert_array_equal(strict_model.params["0.W"], untouched)
