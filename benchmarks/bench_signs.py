"""The feature-learning lesson of the traffic signs, measured with the kit's own layers.

A LeNet-5 (``bench_lenet.lenet``) trained with Adam (lr 1e-3, batch 64) on 10,000 signs (seed 0),
tested after every epoch on 2,000 held-out signs (seed 1), raw [0, 1] pixels as they come;
against scikit-learn's logistic regression on the same raw pixels.

    .venv/bin/python -m benchmarks.bench_signs
"""
from __future__ import annotations

import time

from nutshell_lib import datasets
from nutshell_lib.losses import softmax_cross_entropy
from nutshell_lib.optim import Adam
from nutshell_lib.training import accuracy, fit, predict

from .bench_lenet import lenet

TRAIN, TEST, MAX_EPOCHS, TARGET = 10_000, 2_000, 12, 0.95


def main() -> None:
    X_train, y_train = datasets.traffic_signs(TRAIN, seed=0)
    X_test, y_test = datasets.traffic_signs(TEST, seed=1)
    classes = len(datasets.class_names())
    print(f"Traffic signs: {TRAIN} training, {TEST} test images, {classes} classes")

    model = lenet(seed=0, classes=classes)
    optimizer = Adam(model, lr=1e-3)
    for epoch in range(1, MAX_EPOCHS + 1):
        start = time.perf_counter()
        fit(model, softmax_cross_entropy, optimizer, X_train, y_train, epochs=1, batch_size=64, seed=epoch,
            progress=False)
        seconds = time.perf_counter() - start
        test_accuracy = accuracy(predict(model, X_test, batch_size=500), y_test)
        print(f"  LeNet-5 epoch {epoch:2d}: test accuracy {test_accuracy:.4f}  ({seconds:.1f} s)")
        if test_accuracy >= TARGET:
            break

    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    logistic = LogisticRegression(max_iter=300).fit(X_train.reshape(TRAIN, -1), y_train)
    print(f"  logistic regression on raw pixels: test accuracy "
          f"{logistic.score(X_test.reshape(TEST, -1), y_test):.4f}  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
