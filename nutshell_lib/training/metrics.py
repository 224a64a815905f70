"""Classification metrics on predictions and labels."""
from __future__ import annotations

import numpy as np


def predicted_classes(pred, threshold: float = 0.0) -> np.ndarray:
    """Class indices (N,) from predictions.

    pred (N, C) with C > 1: the argmax of each row (logits or probabilities alike).
    pred (N,) or (N, 1): binary, 1 where pred > ``threshold`` (0 suits logits; use 0.5 for
    probabilities).
    """
    pred = np.asarray(pred)
    if pred.ndim == 2 and pred.shape[1] > 1:
        return pred.argmax(axis=1)
    if pred.ndim == 1 or pred.ndim == 2 and pred.shape[1] == 1:
        return (pred.reshape(len(pred)) > threshold).astype(np.int64)
    raise ValueError(f"predictions must be (N, C) scores or (N,) / (N, 1) binary scores, got shape {pred.shape}")


def true_classes(y) -> np.ndarray:
    """Class indices (N,) from labels: integer classes (N,) or (N, 1), 0/1 floats, or one-hot rows (N, C)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    if y.ndim == 1 or y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(len(y))
        return y if y.dtype.kind in "iu" else (y > 0.5).astype(np.int64)
    raise ValueError(f"labels must be (N,) classes or (N, C) one-hot rows, got shape {y.shape}")


def accuracy(logits_or_pred, y, threshold: float = 0.0) -> float:
    """Fraction of examples whose predicted class (see ``predicted_classes``) equals the label."""
    predicted, actual = predicted_classes(logits_or_pred, threshold), true_classes(y)
    if predicted.shape != actual.shape:
        raise ValueError(f"accuracy: {predicted.shape[0]} predictions but {actual.shape[0]} labels")
    return float(np.mean(predicted == actual)) if len(actual) else float("nan")


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): entry [i, j] is how many examples of class i were predicted as j.

    y_true and y_pred are integer class arrays (N,) with values in [0, n_classes).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"confusion_matrix: y_true and y_pred must be (N,) arrays of the same length, "
                         f"got {y_true.shape} and {y_pred.shape}")
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if values.dtype.kind not in "iu" or len(values) and (values.min() < 0 or values.max() >= n_classes):
            raise ValueError(f"confusion_matrix: {name} must hold integer classes in [0, {n_classes}), "
                             f"got dtype {values.dtype}" + (f", values in [{values.min()}, {values.max()}]" if len(values) else ""))
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
