"""Optimizers that update a model's parameters in place, learning-rate schedules and gradient clipping."""
from .adam import Adam, AdamW
from .clip import clip_grad_norm
from .optimizer import Optimizer
from .schedules import Constant, Cosine, StepDecay, Warmup
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Constant", "StepDecay", "Cosine", "Warmup", "clip_grad_norm"]
