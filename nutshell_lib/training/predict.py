"""Running a model over a dataset in evaluation mode."""
from __future__ import annotations

import numpy as np

from ..layers.base import to_host
from .gpu_batches import batch_on_gpu, parameters_on_gpu


def predict(model, X, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model.forward(X, training=False)``, computed ``batch_size`` examples at a time
    (dropout off, batch norm on its running statistics) and stacked along the first axis.

    X (N, ...) is NumPy; for a model on the GPU each batch is copied there and its output back, so
    the result is a NumPy array (N, ...) either way.
    """
    if batch_size < 1:
        raise ValueError(f"predict: batch_size must be positive, got {batch_size!r}")
    on_gpu = parameters_on_gpu(model)

    def run(X_batch):
        if on_gpu:
            return to_host(model.forward(batch_on_gpu(model, X_batch), training=False))
        return model.forward(X_batch, training=False)

    outputs = [run(X[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    if not outputs:
        raise ValueError(f"predict: X is empty (shape {np.shape(X)})")
    return np.concatenate(outputs, axis=0)
