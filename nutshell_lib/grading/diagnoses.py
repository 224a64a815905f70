"""Recognising common mistakes in a wrong answer, so that feedback can name them.

A question's ``diagnose`` is built with ``recognise(outputs, *mistakes)``. Each mistake is a small
function ``mistake(args, expected, actual) -> sentence or None``: it gets the case's arguments and
the reference's and the learner's outputs, as float64 arrays in dicts keyed by output name, and
returns a sentence when the learner's answer is what that mistake produces. The builders below
cover mistakes that recur across exercises (a transposed result, a gradient off by the batch size,
a flipped sign, the padding left on, ``=`` where windows overlap and need ``+=``); ``same_as``
recognises any mistake that can be written as a function of the case's arguments, and ``when``
any other condition.

A diagnosis is a guess from the numbers: it is shown before the hint, never scored.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Outputs = dict[str, np.ndarray]
Mistake = Callable[[tuple, Outputs, Outputs], "str | None"]


def recognise(outputs: tuple[str, ...], *mistakes: Mistake) -> Callable[[tuple, list, list], str | None]:
    """A ``diagnose(args, expected, actual)`` for a question whose outputs are named ``outputs``:
    the sentence of the first of ``mistakes`` that matches, or None. Sentences do not depend on
    the case, so that feedback can say each one once for all the cases it fits."""
    def diagnose(args, expected, actual):
        if not len(expected) == len(actual) == len(outputs):
            return None
        if any(np.asarray(a).dtype.kind not in "biuf" for a in actual):
            return None
        expected_by_name = {n: np.asarray(e, dtype=np.float64) for n, e in zip(outputs, expected)}
        actual_by_name = {n: as_scalar_if_expected(np.asarray(a, dtype=np.float64), expected_by_name[n])
                          for n, a in zip(outputs, actual)}
        for mistake in mistakes:
            try:
                sentence = mistake(args, expected_by_name, actual_by_name)
            except (ValueError, TypeError, IndexError):  # an output too odd for this mistake's test
                continue
            if sentence:
                return sentence
        return None
    return diagnose


def as_scalar_if_expected(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """A size-1 answer for a scalar, as ``compare`` accepts it."""
    return actual.reshape(()) if expected.ndim == 0 and actual.size == 1 else actual


def close(a, b) -> bool:
    """Same shape and the same values, to about the grader's tolerance."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, rtol=1e-6, atol=1e-8)


def matches_mistake(actual, wrong, expected) -> bool:
    """The answer equals the wrong one, and the wrong one is distinguishable from the right one."""
    return close(actual, wrong) and not close(wrong, expected)


def same_as(name: str, wrong_answer: Callable[..., np.ndarray], sentence: str) -> Mistake:
    """``name`` equals ``wrong_answer(*args)``, the value a known mistake computes."""
    def mistake(args, expected, actual):
        return sentence if matches_mistake(actual[name], wrong_answer(*args), expected[name]) else None
    return mistake


def when(condition: Callable[[tuple, Outputs, Outputs], bool], sentence: str) -> Mistake:
    """Any other recognisable pattern: ``condition(args, expected, actual)``."""
    def mistake(args, expected, actual):
        return sentence if condition(args, expected, actual) else None
    return mistake


def transposed(name: str, advice: str = "swap the factors of the matrix product, or transpose it") -> Mistake:
    def mistake(args, expected, actual):
        e = expected[name]
        if e.ndim == 2 and matches_mistake(actual[name], e.T, e):
            return f"{name} is the transpose of the right answer: {advice}."
        return None
    return mistake


def off_by_batch(name: str, batch_size: Callable[[tuple], int],
                 too_large: str = "the loss is a mean over the batch, so its gradient carries a factor 1/N",
                 too_small: str = "divide by N once only") -> Mistake:
    """``name`` is N times too large or too small, N = ``batch_size(args)``."""
    def mistake(args, expected, actual):
        n, e = batch_size(args), expected[name]
        if n > 1 and matches_mistake(actual[name], e * n, e):
            return f"{name} is N times too large, N the batch size: {too_large}."
        if n > 1 and matches_mistake(actual[name], e / n, e):
            return f"{name} is N times too small, N the batch size: {too_small}."
        return None
    return mistake


def sign_flipped(name: str, advice: str = "look for a difference written the wrong way round") -> Mistake:
    def mistake(args, expected, actual):
        if matches_mistake(actual[name], -expected[name], expected[name]):
            return f"{name} has the right size but the opposite sign: {advice}."
        return None
    return mistake


def padding_not_cropped(name: str, padding: Callable[[tuple], int]) -> Mistake:
    """``name`` (N, C, H, W) came back with ``padding(args)`` extra rows and columns on each side."""
    def mistake(args, expected, actual):
        p, a, e = padding(args), actual[name], expected[name]
        if p < 1 or a.shape != e.shape[:-2] + (e.shape[-2] + 2 * p, e.shape[-1] + 2 * p):
            return None
        if close(a[..., p:-p, p:-p], e):
            return (f"{name} still has the padding: at the end, crop `padding` rows and columns off each side, "
                    f"{name}_pad[:, :, padding:padding + H, padding:padding + W].")
        return None
    return mistake


def assigned_not_added(name: str, *assigned: Callable[..., np.ndarray]) -> Mistake:
    """``name`` is what ``=`` instead of ``+=`` gives where windows overlap: each of ``assigned``
    computes that from the case's arguments (the last window written wins), in one way of
    writing the loops."""
    sentence = (f"{name} looks written with `=` where it needs `+=`: where windows overlap (or several "
                "filters reach one input), the gradients of all of them add up; with `=` only the last "
                "one is kept.")

    def mistake(args, expected, actual):
        if any(matches_mistake(actual[name], wrong(*args), expected[name]) for wrong in assigned):
            return sentence
        return None
    return mistake


def non_finite(name: str, advice: str) -> Mistake:
    """``name`` has inf or NaN where the right answer is finite."""
    def mistake(args, expected, actual):
        if not np.all(np.isfinite(actual[name])) and np.all(np.isfinite(expected[name])):
            return f"{name} contains inf or NaN: {advice}."
        return None
    return mistake
