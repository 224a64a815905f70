"""One small float64 example of every layer, shared by the gradient-check and protocol tests.

Inputs are drawn so that no entry sits within the finite-difference step of a kink (ReLU's 0,
ties inside a max-pool window), where a central difference is meaningless.
"""
import numpy as np

from nutshell_lib.layers import (
    GELU, GRU, LSTM, RNN, AvgPool2D, BatchNorm1D, BatchNorm2D, Conv2D, Dense, Embedding, Flatten, Inception, LastTimeStep,
    LayerNorm, LearnedPositions, LeakyReLU, MaxPool2D, MultiHeadAttention, ReLU, Residual, Sequential, SiLU, Sigmoid,
    SinusoidalPositions, Softmax, Tanh, TransformerBlock,
)

F64 = np.float64


def away_from_zero(rng, shape, margin=0.05):
    """Normal values pushed at least ``margin`` away from 0, so ReLU-like kinks are not straddled."""
    x = rng.standard_normal(shape)
    return x + np.sign(x) * margin


def distinct(rng, shape):
    """A random permutation of well-separated values in [-1, 1): no two entries are closer than
    2 / size, so max-pool ties cannot occur. Keeping them small keeps the loss small, and with it
    the rounding error of the central differences (about 2e-16 * |loss| / step)."""
    size = int(np.prod(shape))
    return (rng.permutation(np.arange(size, dtype=F64)) * (2.0 / size) - 1.0).reshape(shape)


def randomized(layer, seed=0, std=1.0):
    """The layer with every parameter redrawn from a normal distribution, so that no scale is 1 and
    no shift 0 (the initial values would hide a gradient that forgets gamma, or a missing bias).
    A smaller ``std`` keeps the loss, and so the central differences' rounding error, small."""
    rng = np.random.default_rng(seed)
    for array in layer.params.values():
        array[...] = std * rng.standard_normal(array.shape)
    return layer


def cases():
    """(id, layer factory, input factory) for every layer type."""
    return [
        ("Dense", lambda: Dense(4, 3, rng=1, dtype=F64), lambda r: r.standard_normal((2, 4))),
        ("Dense-sequence", lambda: Dense(4, 3, rng=1, dtype=F64), lambda r: r.standard_normal((2, 3, 4))),
        ("Sigmoid", Sigmoid, lambda r: 3 * r.standard_normal((3, 4))),
        ("Tanh", Tanh, lambda r: 2 * r.standard_normal((3, 4))),
        ("ReLU", ReLU, lambda r: away_from_zero(r, (3, 4))),
        ("LeakyReLU", lambda: LeakyReLU(0.2), lambda r: away_from_zero(r, (3, 4))),
        ("GELU", GELU, lambda r: 2 * r.standard_normal((3, 4))),
        ("SiLU", SiLU, lambda r: 2 * r.standard_normal((3, 4))),
        ("Softmax", Softmax, lambda r: r.standard_normal((3, 5))),
        ("Flatten", Flatten, lambda r: r.standard_normal((2, 3, 2, 2))),
        ("Conv2D", lambda: Conv2D(2, 3, (3, 2), stride=(2, 1), padding=1, rng=2, dtype=F64),
         lambda r: r.standard_normal((2, 2, 5, 4))),
        ("MaxPool2D", lambda: MaxPool2D(2), lambda r: distinct(r, (2, 2, 4, 5))),
        ("MaxPool2D-overlapping", lambda: MaxPool2D(3, stride=2), lambda r: distinct(r, (1, 2, 7, 5))),
        ("MaxPool2D-padded", lambda: MaxPool2D(3, stride=1, padding=1), lambda r: distinct(r, (2, 1, 4, 3))),
        ("AvgPool2D", lambda: AvgPool2D(2, stride=1), lambda r: r.standard_normal((2, 2, 3, 4))),
        ("BatchNorm1D", lambda: BatchNorm1D(3, dtype=F64), lambda r: r.standard_normal((5, 3))),
        ("LayerNorm", lambda: randomized(LayerNorm(5, dtype=F64)), lambda r: r.standard_normal((2, 3, 5))),
        ("BatchNorm2D", lambda: BatchNorm2D(2, dtype=F64), lambda r: r.standard_normal((3, 2, 2, 3))),
        ("Inception", lambda: Inception(3, 2, 2, 3, 1, 2, 2, rng=3, dtype=F64),
         lambda r: distinct(r, (2, 3, 4, 4))),
        ("RNN", lambda: RNN(3, 4, rng=4, dtype=F64), lambda r: r.standard_normal((2, 5, 3))),
        ("LSTM", lambda: LSTM(3, 4, rng=5, dtype=F64), lambda r: r.standard_normal((2, 6, 3))),
        ("GRU", lambda: randomized(GRU(3, 4, dtype=F64), seed=4, std=0.5), lambda r: r.standard_normal((2, 5, 3))),
        ("GRU-LastTimeStep-Dense", lambda: Sequential([GRU(3, 4, rng=14, dtype=F64), LastTimeStep(),
                                                       Dense(4, 2, rng=15, dtype=F64)]),
         lambda r: r.standard_normal((2, 4, 3))),
        ("LastTimeStep", LastTimeStep, lambda r: r.standard_normal((2, 3, 4))),
        ("Sequential", lambda: Sequential([Dense(4, 5, rng=6, dtype=F64), Tanh(), Dense(5, 2, rng=7, dtype=F64)]),
         lambda r: r.standard_normal((3, 4))),
        ("Embedding", lambda: Embedding(7, 3, rng=10, dtype=F64), lambda r: r.integers(0, 4, (3, 5))),  # repeats
        ("SinusoidalPositions", lambda: SinusoidalPositions(4), lambda r: r.standard_normal((2, 3, 4))),
        ("LearnedPositions", lambda: LearnedPositions(6, 4, rng=11, dtype=F64), lambda r: r.standard_normal((2, 3, 4))),
        ("MultiHeadAttention", lambda: randomized(MultiHeadAttention(6, 2, rng=12, dtype=F64), seed=1, std=0.5),
         lambda r: r.standard_normal((2, 4, 6))),
        ("MultiHeadAttention-causal", lambda: randomized(MultiHeadAttention(6, 3, causal=True, dtype=F64), seed=2, std=0.5),
         lambda r: r.standard_normal((2, 5, 6))),
        ("TransformerBlock", lambda: randomized(TransformerBlock(4, 2, 6, causal=True, rng=13, dtype=F64), seed=3, std=0.5),
         lambda r: r.standard_normal((2, 3, 4))),
        ("Residual", lambda: Residual(Sequential([Dense(4, 5, rng=8, dtype=F64), Tanh(), Dense(5, 4, rng=9, dtype=F64)])),
         lambda r: r.standard_normal((2, 3, 4))),
    ]
