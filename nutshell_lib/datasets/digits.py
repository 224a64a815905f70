"""Real handwritten digits that ship with scikit-learn: works offline, loads instantly."""
from __future__ import annotations

import numpy as np


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits of the UCI "optdigits" test set, bundled with scikit-learn.

    Returns:
      X: float32 array (1797, 1, 8, 8), pixel intensities scaled from 0..16 to [0, 1], NCHW.
      y: int64 array (1797,), the digit 0..9.
    """
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    bunch = load_digits()
    X = (bunch.images / 16.0).astype(np.float32)[:, None]
    return X, bunch.target.astype(np.int64)
