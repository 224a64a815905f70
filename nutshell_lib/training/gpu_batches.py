"""Batches for a model whose parameters live on the GPU (after ``model.to("cuda")``).

Such a model runs where its parameters are only when its input is there too (the ops follow the
data, see ``ops.device``), so ``fit`` and ``predict`` copy each NumPy batch to the GPU once, in
the parameters' dtype (as the CPU layers convert it), and bring back only numbers and predictions.
"""
from __future__ import annotations

import numpy as np

from ..ops.device import is_device_array, to_gpu


def parameters_on_gpu(model) -> bool:
    """Whether any of ``model.params`` is a device array."""
    return any(is_device_array(param) for param in model.params.values())


def batch_on_gpu(model, X_batch):
    """X_batch (B, ...) NumPy, copied to the GPU as a C-contiguous device array of the dtype of the
    model's first GPU parameter (real-valued input only; the layers validate the rest). A device
    array stays as it is."""
    if is_device_array(X_batch):
        return X_batch
    X_batch = np.asarray(X_batch)
    dtype = next(param.dtype for param in model.params.values() if is_device_array(param))
    if X_batch.dtype.kind in "biuf":
        X_batch = np.ascontiguousarray(X_batch, dtype=dtype)
    return to_gpu(X_batch)
