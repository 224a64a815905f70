"""Toy 2-d classification sets for drawing decision boundaries.

Every function has the form ``f(n, noise=..., seed=0) -> (X, y)``:

- X: float64 array (n, 2), the points;
- y: int64 array (n,), the class of each point, balanced (class counts differ by at most one).

The same ``seed`` always gives the same points. ``noise`` is the standard deviation of Gaussian jitter
added to each coordinate (for ``blobs`` it is the spread of each blob).
"""
from __future__ import annotations

import numpy as np

from ._checks import balanced_labels, non_negative, positive_int


def _start(n, noise, seed, classes):
    """Check the common arguments; return (rng, balanced labels)."""
    n = positive_int("n", n)
    non_negative("noise", noise)
    rng = np.random.default_rng(seed)
    return rng, balanced_labels(n, classes, rng)


def _jitter(points: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return points + noise * rng.standard_normal(points.shape)


def blobs(n: int, noise: float = 1.0, seed: int = 0, *, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class, with centres evenly spaced on a circle of radius 3.

    Returns X (n, 2) float64 and y (n,) int64 in [0, classes).
    """
    classes = positive_int("classes", classes, minimum=2)
    rng, y = _start(n, noise, seed, classes)
    angles = 2 * np.pi * np.arange(classes) / classes + np.pi / 2
    centres = 3.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return _jitter(centres[y], noise, rng), y


def moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (upper arc is class 0, lower arc class 1).

    Returns X (n, 2) float64 and y (n,) int64 in {0, 1}.
    """
    rng, y = _start(n, noise, seed, 2)
    t = np.pi * rng.random(y.shape[0])
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    points = np.where(y[:, None] == 0, upper, lower)
    return _jitter(points, noise, rng), y


def circles(n: int, noise: float = 0.05, seed: int = 0, *, factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0).

    Returns X (n, 2) float64 and y (n,) int64 in {0, 1}.
    """
    factor = non_negative("factor", factor, maximum=1.0)
    rng, y = _start(n, noise, seed, 2)
    t = 2 * np.pi * rng.random(y.shape[0])
    radius = np.where(y == 0, 1.0, factor)
    points = radius[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    return _jitter(points, noise, rng), y


def xor(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2; the class is 1 when x1 and x2 have different signs.

    The label is decided before the jitter, so with noise > 0 a few points cross the axes.
    Returns X (n, 2) float64 and y (n,) int64 in {0, 1}.
    """
    rng, y = _start(n, noise, seed, 2)
    magnitudes = rng.random((y.shape[0], 2))
    first_sign = rng.choice([-1.0, 1.0], size=y.shape[0])
    # class 0: same signs (quadrants I and III); class 1: opposite signs (II and IV)
    second_sign = np.where(y == 0, first_sign, -first_sign)
    points = magnitudes * np.stack([first_sign, second_sign], axis=1)
    return _jitter(points, noise, rng), y


def spirals(n: int, noise: float = 0.2, seed: int = 0, *, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the CS231n toy set), radius from 0 to 1.

    ``noise`` is the jitter of the angle (in radians), as in CS231n, so points stay on their arm's radius.
    Returns X (n, 2) float64 and y (n,) int64 in [0, classes).
    """
    classes = positive_int("classes", classes, minimum=2)
    rng, y = _start(n, noise, seed, classes)
    radius = rng.random(y.shape[0])
    angle = 4.0 * radius + 2 * np.pi * y / classes + noise * rng.standard_normal(y.shape[0])
    return radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1), y
