"""Make ``sign_cnn.npz``: train ``sign_cnn`` on the base classes (``python -m nutshell_lib.pretrained``).

Seeded; prints the accuracy on held-out signs of the base classes. About 20 s of CPU time.
(Numba's and BLAS's thread counts change the last bits of float32 sums, hence of the file.)
"""
from __future__ import annotations

import time

import numpy as np

from ..layers import save
from ..losses import softmax_cross_entropy
from ..optim import Adam
from ..training import accuracy, fit, predict
from . import BASE_CLASSES, WEIGHTS, sign_cnn, signs_of

TRAINING_SIGNS, TEST_SIGNS, EPOCHS = 6000, 2000, 5


def main() -> None:
    start = time.perf_counter()
    X, y = signs_of(BASE_CLASSES, TRAINING_SIGNS, seed=100)
    X_test, y_test = signs_of(BASE_CLASSES, TEST_SIGNS, seed=101)
    model = sign_cnn(len(BASE_CLASSES), rng=0)
    fit(model, softmax_cross_entropy, Adam(model, lr=2e-3), X, y, epochs=EPOCHS, batch_size=64, seed=0,
        progress=False)
    save(model, WEIGHTS)
    print(f"{WEIGHTS.name}: {accuracy(predict(model, X_test), y_test):.1%} on {TEST_SIGNS} held-out signs of "
          f"the {len(BASE_CLASSES)} base classes, trained in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
