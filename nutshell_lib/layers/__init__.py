"""Layers with forward/backward, and composites built from them (see ``base`` for the protocol).

Every layer's parameters live in ``layer.params`` and their gradients in ``layer.grads`` (same
keys). Layers with weights take ``rng`` (an int seed or a Generator) and ``dtype`` (float32 by
default; float64 for gradient checks). Save and load models with ``save(model, path)`` and
``load_into(model, path)`` (.npz files; ``strict=False`` loads the part that fits). ``freeze(layer)``
and ``unfreeze(layer)`` decide which parameters the optimizers update.
"""
from .activations import GELU, LeakyReLU, ReLU, SiLU, Sigmoid, Softmax, Tanh
from .attention import MultiHeadAttention
from .base import Layer
from .batchnorm import BatchNorm1D, BatchNorm2D
from .composite import Composite
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .freezing import freeze, trainable_names, unfreeze
from .gaussian_sample import GaussianSample, reparameterize, reparameterize_backward
from .gru import GRU
from .inception import Inception
from .last_step import LastTimeStep
from .layernorm import LayerNorm
from .lstm import LSTM
from .pool import AvgPool2D, MaxPool2D
from .positions import LearnedPositions, SinusoidalPositions, sinusoidal_positions
from .residual import Residual
from .rnn import RNN
from .sequential import Sequential
from .serialization import Loaded, load_into, save
from .transformer import TransformerBlock

__all__ = [
    "Layer", "Composite", "Sequential", "Residual",
    "Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "Dropout", "BatchNorm1D", "BatchNorm2D", "LayerNorm",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "GELU", "SiLU", "Softmax",
    "Inception", "RNN", "LSTM", "GRU", "LastTimeStep", "Embedding",
    "SinusoidalPositions", "LearnedPositions", "sinusoidal_positions", "MultiHeadAttention",
    "TransformerBlock", "GaussianSample", "reparameterize", "reparameterize_backward",
    "save", "load_into", "Loaded", "freeze", "unfreeze", "trainable_names",
]
