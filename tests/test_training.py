"""The fit loop on tiny problems: it learns, records history, stops early and restores the best
weights; predict, accuracy and the confusion matrix against direct computations."""
import warnings

import numpy as np
import pytest

from nutshell_lib.layers import Dense, Dropout, ReLU, Sequential
from nutshell_lib.losses import binary_cross_entropy, mse, softmax_cross_entropy
from nutshell_lib.optim import SGD, Adam
from nutshell_lib.training import accuracy, confusion_matrix, fit, predict


def blobs(n, seed):
    """Three well-separated Gaussian clusters in 2-d, labelled 0, 1, 2."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    return (centres[labels] + rng.standard_normal((n, 2))).astype(np.float32), labels


def classifier(seed=0):
    return Sequential([Dense(2, 16, rng=seed), ReLU(), Dense(16, 3, rng=seed + 1)])


def test_fit_learns_and_records_history():
    X, y = blobs(300, 0)
    X_val, y_val = blobs(100, 1)
    model = classifier()
    history = fit(model, softmax_cross_entropy, Adam(model, lr=0.01), X, y, epochs=8, batch_size=32,
                  validation=(X_val, y_val), progress=False)
    assert history.epochs == 8 and len(history.val_accuracy) == 8
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert history.val_accuracy[-1] > 0.9
    assert history.val_loss[-1] == pytest.approx(softmax_cross_entropy(predict(model, X_val), y_val)[0], rel=1e-5)
    assert not history.stopped_early and history.best_epoch is None


def test_fit_is_reproducible_from_seed():
    X, y = blobs(100, 0)
    runs = []
    for _ in range(2):
        model = classifier()
        runs.append(fit(model, softmax_cross_entropy, SGD(model, lr=0.1), X, y, epochs=3, batch_size=16,
                        seed=5, progress=False).loss)
    assert runs[0] == runs[1]


def test_early_stopping_fires_and_restores_the_best_weights():
    X, y = blobs(200, 0)
    X_val, y_val = blobs(100, 1)
    y_val = (y_val + 1) % 3  # validation labels that disagree with training: val loss rises
    model = classifier()
    history = fit(model, softmax_cross_entropy, Adam(model, lr=0.02), X, y, epochs=50, batch_size=32,
                  validation=(X_val, y_val), early_stopping=3, progress=False)
    assert history.stopped_early and history.epochs < 50
    assert history.epochs == history.best_epoch + 1 + 3
    best = history.val_loss[history.best_epoch]
    assert best == min(history.val_loss)
    assert softmax_cross_entropy(predict(model, X_val), y_val)[0] == pytest.approx(best, rel=1e-5)


def test_regression_has_no_accuracy_and_binary_targets_do():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    model = Sequential([Dense(3, 1, rng=0)])
    history = fit(model, mse, SGD(model, lr=0.05), X, X @ [[1.0], [-2.0], [0.5]], epochs=5, batch_size=16,
                  progress=False)
    assert history.accuracy == [] and history.loss[-1] < history.loss[0]
    model = Sequential([Dense(3, 1, rng=0)])
    targets = (X[:, :1] > 0).astype(np.float64)
    history = fit(model, binary_cross_entropy, Adam(model, lr=0.05), X, targets, epochs=10, batch_size=16,
                  progress=False)
    assert history.accuracy[-1] > 0.9


def test_live_plot_and_progress_bar_do_not_break_headless_runs(capsys):
    X, y = blobs(40, 0)
    model = classifier()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, softmax_cross_entropy, SGD(model, lr=0.1), X, y, epochs=2, batch_size=8,
                      progress=True, live_plot=True)
    assert history.epochs == 2
    assert any("live_plot=True needs a Jupyter notebook" in str(w.message) for w in caught)
    assert "10/10" in capsys.readouterr().err  # the text progress bar reached the end


def test_predict_runs_in_evaluation_mode_in_batches():
    model = Sequential([Dense(2, 4, rng=0), Dropout(0.5, rng=0)])
    X = np.random.default_rng(0).standard_normal((10, 2))
    full = model.forward(X, training=False)
    np.testing.assert_array_equal(predict(model, X, batch_size=3), full)


def test_accuracy_and_confusion_matrix():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 1.0]])
    y = np.array([0, 2, 2, 1])
    assert accuracy(logits, y) == 0.5
    assert accuracy(logits, np.eye(3)[y]) == 0.5
    assert accuracy(np.array([0.3, -2.0, 1.0]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([[0.7], [0.2]]), np.array([[1.0], [1.0]]), threshold=0.5) == 0.5
    cm = confusion_matrix(y, logits.argmax(axis=1), 3)
    expected = np.zeros((3, 3), int)
    for t, p in zip(y, logits.argmax(axis=1)):
        expected[t, p] += 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == 4 and np.trace(cm) == 2


@pytest.mark.parametrize("call, message", [
    (lambda m: fit(m, mse, SGD(m, lr=0.1), np.zeros((4, 2)), np.zeros(3), epochs=1, batch_size=2, progress=False),
     "4 examples in X but 3 labels"),
    (lambda m: fit(m, mse, SGD(m, lr=0.1), np.zeros((4, 2)), np.zeros(4), epochs=0, batch_size=2, progress=False),
     "epochs and batch_size must be positive"),
    (lambda m: confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3), r"y_true must hold integer classes in \[0, 3\)"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call(Sequential([Dense(2, 1, rng=0)]))


def test_live_plot_in_a_notebook_displays_once_then_updates(monkeypatch):
    import IPython.display

    from nutshell_lib.training import live_plot

    shown = []

    class Handle:
        def update(self, image):
            shown.append(("update", image))

    def fake_display(image, display_id):
        assert display_id is True
        shown.append(("display", image))
        return Handle()

    monkeypatch.setattr(live_plot, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    X, y = blobs(40, 0)
    model = classifier()
    fit(model, softmax_cross_entropy, SGD(model, lr=0.1), X, y, epochs=3, batch_size=8, validation=(X, y),
        progress=False, live_plot=True)
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    assert all(image.data.startswith(b"\x89PNG") for _, image in shown)
