"""A small CNN pretrained on some of the traffic-sign classes, for transfer learning.

The 13 classes of ``datasets.traffic_signs`` are split in two: the network was trained on the 8
``BASE_CLASSES``; the 5 ``NEW_CLASSES`` are kept for learning from few examples (notebook 13,
exercise 13). ``sign_cnn(classes)`` builds the architecture, ``pretrained_sign_cnn()`` builds it
with the shipped weights (``sign_cnn.npz``, made offline by ``python -m nutshell_lib.pretrained``),
and ``signs_of(classes, n, seed)`` draws signs of some classes only, labelled 0..len(classes)-1.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import class_names, traffic_signs
from ..layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, load_into

WEIGHTS = Path(__file__).with_name("sign_cnn.npz")
NEW_CLASSES = ("turn right", "no parking", "crossroads", "parking", "yield")
BASE_CLASSES = tuple(name for name in class_names() if name not in NEW_CLASSES)
FEATURES = 16 * 6 * 6  # length of the feature vector the head reads


def sign_cnn(classes: int, rng=None) -> Sequential:
    """The network: ``features`` maps x (N, 3, 32, 32) to (N, FEATURES) = (N, 576), and ``head``,
    one Dense layer, maps those to class scores (N, classes).

    features: Conv 8@5x5 (padding 2), ReLU, max-pool 2, Conv 16@5x5, ReLU, max-pool 2, Flatten;
    its weights are "features.0.W", "features.0.b", "features.3.W", "features.3.b".
    """
    rng = np.random.default_rng(rng)
    features = Sequential([
        Conv2D(3, 8, 5, padding=2, rng=rng), ReLU(), MaxPool2D(2),     # (N, 8, 16, 16)
        Conv2D(8, 16, 5, rng=rng), ReLU(), MaxPool2D(2),               # (N, 16, 6, 6)
        Flatten(),
    ])
    return Sequential({"features": features, "head": Dense(FEATURES, classes, rng=rng)})


def pretrained_sign_cnn(classes: int = len(BASE_CLASSES), rng=None) -> Sequential:
    """``sign_cnn(classes)`` with the pretrained weights loaded: all of them for the 8 base
    classes; for another number of classes every array but the new head's, which keeps its
    random start from ``rng``."""
    model = sign_cnn(classes, rng=rng)
    load_into(model, WEIGHTS, strict=classes == len(BASE_CLASSES))
    return model


def signs_of(classes, n: int, seed: int = 0, **knobs) -> tuple[np.ndarray, np.ndarray]:
    """``n`` traffic signs of the named ``classes`` only, balanced and shuffled.

    Returns X float32 (n, 3, 32, 32) and y int64 (n,), where y = i means ``classes[i]``.
    ``knobs`` go to ``datasets.traffic_signs`` (rotation, noise, ...).
    """
    names = class_names()
    unknown = [name for name in classes if name not in names]
    if unknown or len(set(classes)) != len(classes) or not classes:
        raise ValueError(f"signs_of: classes must be distinct names from datasets.class_names(), got {classes!r}")
    per_class = -(-int(n) // len(classes))
    X, y = traffic_signs(per_class * len(names), seed=seed, **knobs)  # exactly per_class of each class
    index = {names.index(name): position for position, name in enumerate(classes)}
    keep = np.flatnonzero(np.isin(y, list(index)))[:n]
    return X[keep], np.array([index[label] for label in y[keep]], dtype=np.int64)
