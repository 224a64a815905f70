"""Small, offline, seeded datasets for the course.

Generated (same seed, same data; no network):
  blobs, moons, circles, xor, spirals (n, noise=..., seed=0) -> X (n, 2), y (n,)     toy2d.py
  traffic_signs(n, seed=0, *, rotation, scale, shift, noise, occlusion, lighting)
      -> X float32 (n, 3, 32, 32) in [0, 1], y int64; names in TRAFFIC_SIGN_CLASSES  traffic_sign_drawing.py
  long_lag_recall(n, lag, n_symbols=4, seed=0), adding_problem(n, T, seed=0)         sequences.py
Bundled with scikit-learn:
  digits() -> X float32 (1797, 1, 8, 8) in [0, 1], y int64                           digits.py
Downloaded once, then cached and checked:
  mnist(kind="digits" | "fashion", cache_dir=None) -> ((X_train, y_train), (X_test, y_test))  mnist_files.py
Splitting:
  train_val_test_split(X, y, n_val=, n_test=, seed=0) -> (train, val, test) pairs     splits.py
"""
from .digits import digits
from .idx import read_idx
from .mnist_files import ChecksumError, DownloadError, fetch, mnist
from .sequences import adding_problem, long_lag_recall
from .splits import train_val_test_split
from .toy2d import blobs, circles, moons, spirals, xor
from .traffic_sign_catalogue import TRAFFIC_SIGN_CLASSES
from .traffic_sign_drawing import class_names, traffic_signs

__all__ = [
    "blobs", "moons", "circles", "xor", "spirals",
    "traffic_signs", "TRAFFIC_SIGN_CLASSES", "class_names",
    "digits",
    "long_lag_recall", "adding_problem",
    "mnist", "fetch", "read_idx", "DownloadError", "ChecksumError",
    "train_val_test_split",
]
