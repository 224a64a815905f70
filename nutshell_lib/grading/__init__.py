"""Graded exercises: instant feedback in notebooks (``check``), releasing exercise notebooks
from their solutions (``nutshell release``) and grading a class (``nutshell grade``)."""
from .check import check

__all__ = ["check"]
