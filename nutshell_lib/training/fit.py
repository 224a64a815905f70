"""The training loop: minibatch gradient descent over epochs, with validation, early stopping,
a progress bar and an optional live loss curve."""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from ..layers.base import to_host
from ..ops.device import is_device_array
from ..optim.clip import clip_grad_norm
from .gpu_batches import batch_on_gpu, parameters_on_gpu
from .history import History
from .live_plot import LiveLossPlot
from .metrics import accuracy
from .predict import predict


def _has_classes(y: np.ndarray) -> bool:
    """Whether accuracy means something for these labels: integer classes, one-hot rows or 0/1 targets."""
    return y.dtype.kind in "biu" or bool(np.isin(y, (0, 1)).all())


def _snapshot(model) -> dict[str, np.ndarray]:
    """Copies of the parameters and buffers, on the host (device arrays are copied there)."""
    return {name: array.copy_to_host() if is_device_array(array) else array.copy()
            for name, array in {**model.params, **model.buffers}.items()}


def _restore(model, snapshot: dict[str, np.ndarray]) -> None:
    """Write a ``_snapshot`` back into the model's arrays in place, wherever they live."""
    for name, array in {**model.params, **model.buffers}.items():
        if is_device_array(array):
            array.copy_to_device(snapshot[name])
        else:
            array[...] = snapshot[name]


def _check_data(name: str, X, y) -> None:
    if len(X) != len(y):
        raise ValueError(f"fit: {name} has {len(X)} examples in X but {len(y)} labels in y")
    if len(X) == 0:
        raise ValueError(f"fit: {name} is empty")


def fit(model, loss_fn, optimizer, X, y, *, epochs: int, batch_size: int, validation=None, shuffle: bool = True,
        seed: int = 0, early_stopping: int | None = None, max_grad_norm: float | None = None,
        progress: bool = True, live_plot: bool = False) -> History:
    """Train ``model`` and return its History.

    model: a layer; loss_fn(pred, y_batch) -> (loss, dpred), e.g. ``losses.softmax_cross_entropy``;
    optimizer: e.g. ``optim.Adam(model)``. X (N, ...) inputs, y (N, ...) targets.
    epochs, batch_size: passes over the data and examples per step (the last batch may be smaller).
    validation: (X_val, y_val) evaluated in eval mode after each epoch, or None.
    shuffle, seed: reshuffle each epoch with ``numpy.random.default_rng(seed)``.
    early_stopping: patience in epochs. Training stops once the validation loss (the training
        loss without validation data) has not improved for that many epochs, and the weights of
        the best epoch are put back into the model, also when all epochs ran.
    max_grad_norm: clip gradients to this global norm before each step (None: no clipping).
    progress: show a tqdm bar (a widget in Jupyter, text in a terminal).
    live_plot: redraw a loss curve after every epoch (notebooks only; ignored elsewhere with a warning).

    Training loss and accuracy are averaged over the epoch's batches as they were trained.
    Accuracy is recorded when the targets are classes (integer labels, one-hot rows or 0/1).

    A model on the GPU (``model.to("cuda")``) trains there: X and y stay NumPy arrays, each batch
    of X is copied to the GPU once in the parameters' dtype, and only the loss (and, for accuracy,
    the batch's predictions) come back. ``loss_fn`` must then take device predictions
    (``softmax_cross_entropy`` with class labels does), and ``max_grad_norm`` is not available.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"fit: epochs and batch_size must be positive, got epochs={epochs!r}, batch_size={batch_size!r}")
    if early_stopping is not None and early_stopping < 1:
        raise ValueError(f"fit: early_stopping is a patience in epochs (>= 1) or None, got {early_stopping!r}")
    on_gpu = parameters_on_gpu(model)
    if on_gpu and max_grad_norm is not None:
        raise ValueError("fit: max_grad_norm (gradient clipping) runs on the CPU only so far, and the model's "
                         "parameters are on the GPU; use max_grad_norm=None or model.to('cpu')")
    X, y = np.asarray(X), np.asarray(y)
    _check_data("the training data", X, y)
    if validation is not None:
        X_val, y_val = (np.asarray(a) for a in validation)
        _check_data("validation", X_val, y_val)
    with_accuracy = _has_classes(y)
    rng = np.random.default_rng(seed)
    history = History()
    plot = LiveLossPlot() if live_plot else None
    best_loss, best_state, epochs_without_improvement = np.inf, None, 0
    n_batches = -(-len(X) // batch_size)
    bar = tqdm(total=epochs * n_batches, disable=not progress, unit="batch", leave=True)
    try:
        for epoch in range(epochs):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            total_loss = total_correct = 0.0
            for start in range(0, len(X), batch_size):
                batch = order[start:start + batch_size]
                X_batch, y_batch = X[batch], y[batch]
                pred = model.forward(batch_on_gpu(model, X_batch) if on_gpu else X_batch, training=True)
                loss, dpred = loss_fn(pred, y_batch)
                model.backward(dpred)
                if max_grad_norm is not None:
                    clip_grad_norm(model, max_grad_norm)
                optimizer.step()
                total_loss += loss * len(batch)
                if with_accuracy:
                    total_correct += accuracy(to_host(pred), y_batch) * len(batch)
                bar.update()
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.4f}", refresh=False)
            history.loss.append(total_loss / len(X))
            if with_accuracy:
                history.accuracy.append(total_correct / len(X))
            if validation is not None:
                val_pred = predict(model, X_val, batch_size=max(batch_size, 256))
                history.val_loss.append(loss_fn(val_pred, y_val)[0])
                if with_accuracy:
                    history.val_accuracy.append(accuracy(val_pred, y_val))
            bar.set_postfix_str(history.summary(), refresh=True)
            if plot is not None:
                plot.update(history)
            if early_stopping is not None:
                monitored = history.val_loss[-1] if validation is not None else history.loss[-1]
                if monitored < best_loss:
                    best_loss, best_state, epochs_without_improvement = monitored, _snapshot(model), 0
                    history.best_epoch = epoch
                else:
                    epochs_without_improvement += 1
                    if epochs_without_improvement >= early_stopping:
                        history.stopped_early = True
                        break
    finally:
        bar.close()
    if best_state is not None:
        _restore(model, best_state)
    return history
