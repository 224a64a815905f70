"""Training a model: the ``fit`` loop, its History, evaluation-mode ``predict``, and metrics."""
from .fit import fit
from .history import History
from .metrics import accuracy, confusion_matrix, predicted_classes
from .predict import predict

__all__ = ["fit", "History", "predict", "accuracy", "confusion_matrix", "predicted_classes"]
