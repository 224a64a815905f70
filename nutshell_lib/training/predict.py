"""Running a model over a dataset in evaluation mode."""
from __future__ import annotations

import numpy as np


def predict(model, X, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model.forward(X, training=False)``, computed ``batch_size`` examples at a time
    (dropout off, batch norm on its running statistics) and stacked along the first axis."""
    if batch_size < 1:
        raise ValueError(f"predict: batch_size must be positive, got {batch_size!r}")
    outputs = [model.forward(X[start:start + batch_size], training=False) for start in range(0, len(X), batch_size)]
    if not outputs:
        raise ValueError(f"predict: X is empty (shape {np.shape(X)})")
    return np.concatenate(outputs, axis=0)
