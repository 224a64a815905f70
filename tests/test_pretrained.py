"""The pretrained sign CNN of notebook 13: the class split, signs of chosen classes, the weights."""
import numpy as np
import pytest

from nutshell_lib.datasets import class_names, traffic_signs
from nutshell_lib.pretrained import (
    BASE_CLASSES, FEATURES, NEW_CLASSES, WEIGHTS, pretrained_sign_cnn, sign_cnn, signs_of,
)
from nutshell_lib.training import accuracy, predict


def test_the_classes_are_split_in_two():
    assert set(BASE_CLASSES) | set(NEW_CLASSES) == set(class_names())
    assert not set(BASE_CLASSES) & set(NEW_CLASSES) and len(BASE_CLASSES) == 8


@pytest.mark.parametrize("classes, n", [(NEW_CLASSES, 23), (("yield", "stop"), 10), (("parking",), 3)])
def test_signs_of_draws_the_named_classes_relabelled(classes, n):
    X, y = signs_of(classes, n, seed=5)
    assert X.shape == (n, 3, 32, 32) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y, minlength=len(classes)).max() - np.bincount(y, minlength=len(classes)).min() <= 1
    # oracle: the same images in the full draw, where the labels are the datasets' own
    per_class = -(-n // len(classes))
    X_all, y_all = traffic_signs(per_class * len(class_names()), seed=5)
    names = [class_names()[label] for label in y_all]
    kept = [i for i, name in enumerate(names) if name in classes][:n]
    np.testing.assert_array_equal(X, X_all[kept])
    assert [classes[label] for label in y] == [names[i] for i in kept]


def test_signs_of_refuses_unknown_or_repeated_classes():
    with pytest.raises(ValueError, match="signs_of: classes must be distinct names"):
        signs_of(("stop", "go"), 4)
    with pytest.raises(ValueError, match="signs_of"):
        signs_of(("stop", "stop"), 4)


def test_the_shipped_weights_recognise_the_base_classes():
    model = pretrained_sign_cnn()
    X, y = signs_of(BASE_CLASSES, 400, seed=123)
    assert accuracy(predict(model, X), y) > 0.97
    with np.load(WEIGHTS) as saved:
        assert sorted(saved.files) == sorted(model.params)
        np.testing.assert_array_equal(model.params["features.3.W"], saved["features.3.W"])


def test_a_new_head_keeps_its_random_start():
    model = pretrained_sign_cnn(len(NEW_CLASSES), rng=3)
    fresh = sign_cnn(len(NEW_CLASSES), rng=3)
    with np.load(WEIGHTS) as saved:
        for name in ("features.0.W", "features.0.b", "features.3.W", "features.3.b"):
            np.testing.assert_array_equal(model.params[name], saved[name])
    np.testing.assert_array_equal(model.params["head.W"], fresh.params["head.W"])
    assert model.params["head.W"].shape == (FEATURES, len(NEW_CLASSES))
    assert predict(model.children["features"], np.zeros((2, 3, 32, 32), np.float32)).shape == (2, FEATURES)
