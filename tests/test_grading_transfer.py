"""Exercise 13 (transfer learning): the references against independent oracles, and the grading
of the frozen-feature classifier on the grader's own draw of the new sign classes."""
import numpy as np
import pytest
from scipy.special import log_softmax

from nutshell_lib.grading import reference as ref
from nutshell_lib.grading.grade import submission_seed
from nutshell_lib.grading.questions import GRADING_STREAM, PUBLIC_STREAM, QUESTIONS, draw_cases
from nutshell_lib.pretrained import NEW_CLASSES

from test_conv import central_difference
from test_grading_grade import ROOT, SEED, by_name, grade, submission


def cases(name):
    return [args for seed in range(3) for args in draw_cases(QUESTIONS[name], seed, GRADING_STREAM)]


@pytest.mark.parametrize("args", cases("relative_change"))
def test_relative_change_is_the_ratio_of_the_norms(args):
    before, after = args
    expected = [np.sqrt(sum((a - b) ** 2 for a, b in zip(np.ravel(y), np.ravel(x)))) / np.sqrt(sum(np.ravel(x) ** 2))
                for x, y in zip(before, after)]
    np.testing.assert_allclose(ref.relative_change(before, after), expected, rtol=1e-12)
    assert ref.relative_change(before, before).tolist() == [0.0] * len(before)


def cross_entropy(features, y, W, b):
    return -np.mean(log_softmax(features @ W + b, axis=1)[np.arange(len(y)), y])


@pytest.mark.parametrize("args", cases("train_head"))
def test_train_head_steps_down_the_central_difference_gradient(args):
    features, y, W, b, learning_rate, steps = args
    W_given, b_given = W.copy(), b.copy()
    W_step, b_step = W.copy(), b.copy()
    for _ in range(steps):  # oracle: gradient descent on SciPy's cross-entropy, gradients by central differences
        dW = central_difference(lambda: cross_entropy(features, y, W_step, b_step), W_step)
        db = central_difference(lambda: cross_entropy(features, y, W_step, b_step), b_step)
        W_step, b_step = W_step - learning_rate * dW, b_step - learning_rate * db
    W_new, b_new = ref.train_head(features, y, W, b, learning_rate, steps)
    np.testing.assert_allclose(W_new, W_step, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b_new, b_step, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(W, W_given)  # the starting weights are left alone
    np.testing.assert_array_equal(b, b_given)


def test_the_grader_draws_few_training_signs_of_the_new_classes():
    task = QUESTIONS["train_new_sign_classifier"]
    split = task.split(submission_seed(SEED, "anyone"), GRADING_STREAM)
    assert split.X_train.shape == (50, 3, 32, 32) and split.X_test.shape == (1000, 3, 32, 32)
    assert np.bincount(split.y_train).tolist() == [10] * len(NEW_CLASSES)
    assert np.bincount(split.y_test).tolist() == [200] * len(NEW_CLASSES)
    public = task.split(0, PUBLIC_STREAM)
    assert not np.array_equal(public.X_train, split.X_train)


NEAREST_CLASS_MEAN = '''
def train_new_sign_classifier(X_train, y_train):
    flat = X_train.reshape(len(X_train), -1)
    means = np.stack([flat[y_train == k].mean(axis=0) for k in range(5)])
    return lambda X: ((X.reshape(len(X), 1, -1) - means) ** 2).sum(axis=2).argmin(axis=1)
'''
CONSTANT_LABELS = '''
def train_new_sign_classifier(X_train, y_train):
    return lambda X: np.zeros(len(X), dtype=int)
'''


def test_solution_full_marks_and_baselines_by_their_accuracy(tmp_path):
    paths = [ROOT / "solutions" / "13_transfer.ipynb"] + [
        submission(tmp_path, "13_transfer", name, extra_cells=[source])
        for name, source in (("centroids", NEAREST_CLASS_MEAN), ("constant", CONSTANT_LABELS))]
    results = grade(tmp_path, paths)
    assert results["13_transfer"]["score"] == 10, results["13_transfer"]
    classifier = {name: by_name(result)["train_new_sign_classifier"] for name, result in results.items()}
    assert "3 of 3 reached" in classifier["13_transfer"]["output"]
    assert classifier["centroids"]["score"] == 2 and "1 of 3 reached" in classifier["centroids"]["output"]  # ~70%
    assert classifier["constant"]["score"] == 0 and "accuracy 20.0%" in classifier["constant"]["output"]


def test_the_blank_exercise_gets_zero(tmp_path):
    blank = grade(tmp_path, [ROOT / "exercises" / "13_transfer.ipynb"])["13_transfer"]
    assert blank["score"] == 0
    assert all("not implemented" in test["output"] and test["status"] == "failed" for test in blank["tests"])
