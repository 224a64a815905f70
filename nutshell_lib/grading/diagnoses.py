"""Recognising common mistakes in a wrong answer, so that feedback can name them.

A question's ``diagnose`` is built with ``recognise(*mistakes)``. Each mistake names the outputs it
looks at (``transposed("dw")``) and tests the case's arguments and the reference's and the
learner's outputs, as float64 arrays in mappings keyed by output name: it returns a sentence when
the learner's answer is what that mistake produces. The names are the question's own
(``Question.outputs``): a question refuses, when it is defined, a mistake that names an output
it does not have, and a mistake sees only the outputs it names. The builders below cover mistakes
that recur across exercises (a transposed result, a gradient off by the batch size, a flipped sign,
the padding left on, ``=`` where windows overlap and need ``+=``); ``same_as`` recognises any
mistake that can be written as a function of the case's arguments, and ``when`` any other
condition.

A diagnosis is a guess from the numbers: it is shown before the hint, never scored.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping

import numpy as np

Outputs = Mapping[str, np.ndarray]
Test = Callable[[tuple, Outputs, Outputs], "str | None"]


class UndeclaredOutput(LookupError):
    """A mistake's test looked up an output that the mistake does not name."""


@dataclass(frozen=True)
class Mistake:
    """One common mistake. ``test(args, expected, actual)`` returns its sentence when the learner's
    answer is what the mistake produces, else None; ``expected`` and ``actual`` hold the outputs
    named in ``reads`` and no others. ``label`` names the mistake in error messages."""
    label: str
    reads: tuple[str, ...]
    test: Test


@dataclass(frozen=True)
class Diagnosis:
    """A question's ``diagnose(args, expected, actual)``: the sentence of the first of ``mistakes``
    that matches, or None. ``expected`` and ``actual`` map each of the question's output names to
    an array. Sentences do not depend on the case, so that feedback can say each one once for all
    the cases it fits. ``question`` is the name of the question it belongs to (``for_question``)."""
    mistakes: tuple[Mistake, ...]
    question: str = ""

    def for_question(self, question: str, outputs: tuple[str, ...]) -> Diagnosis:
        """This diagnosis, belonging to question ``question`` whose outputs are named ``outputs``;
        a ValueError naming the question, the mistake and the name when a mistake names an output
        that is not one of ``outputs``."""
        for mistake in self.mistakes:
            for name in mistake.reads:
                if name not in outputs:
                    raise ValueError(f"question {question!r}: the mistake {mistake.label} refers to output "
                                     f"{name!r}, which the question does not have (its outputs: "
                                     f"{', '.join(outputs) or 'none'})")
        return replace(self, question=question)

    def __call__(self, args: tuple, expected: Outputs, actual: Outputs) -> str | None:
        if any(np.asarray(a).dtype.kind not in "biuf" for a in actual.values()):
            return None
        expected = {n: np.asarray(e, dtype=np.float64) for n, e in expected.items()}
        actual = {n: as_scalar_if_expected(np.asarray(a, dtype=np.float64), expected[n]) for n, a in actual.items()}
        for mistake in self.mistakes:
            try:
                sentence = mistake.test(args, self._read(mistake, expected), self._read(mistake, actual))
            except (ValueError, TypeError, IndexError):  # an output too odd for this mistake's test
                continue
            if sentence:
                return sentence
        return None

    def _read(self, mistake: Mistake, outputs: dict[str, np.ndarray]) -> Outputs:
        return OutputsRead({name: outputs[name] for name in mistake.reads if name in outputs}, self.question, mistake)


class OutputsRead(dict):
    """The outputs a mistake names; looking up any other is an error in how the mistake is written."""

    def __init__(self, outputs: dict[str, np.ndarray], question: str, mistake: Mistake):
        super().__init__(outputs)
        self.question, self.mistake = question, mistake

    def __missing__(self, name):
        why = "the question does not have" if name in self.mistake.reads else "the mistake does not name"
        raise UndeclaredOutput(f"question {self.question!r}: the mistake {self.mistake.label} looks at output "
                               f"{name!r}, which {why} (it names {', '.join(self.mistake.reads)})")


def recognise(*mistakes: Mistake) -> Diagnosis:
    """A question's ``diagnose``: the first of ``mistakes`` that matches a wrong answer."""
    for mistake in mistakes:
        if not isinstance(mistake, Mistake):
            raise TypeError(f"recognise takes mistakes made by the builders of diagnoses.py "
                            f"(same_as, when, transposed, ...), got {type(mistake).__name__}")
    return Diagnosis(mistakes)


def _names(reads) -> tuple[str, ...]:
    """One output name or a tuple of them, as a tuple."""
    names = (reads,) if isinstance(reads, str) else reads
    if not isinstance(names, tuple) or not names or not all(isinstance(n, str) for n in names):
        raise TypeError(f"a mistake names its outputs with a string or a tuple of strings, got {reads!r}")
    return names


def _label(builder: str, reads, detail: str = "") -> str:
    """How an error message names a mistake: ``transposed('dw')``, ``same_as('y', conv2d_flipped)``."""
    return f"{builder}({reads!r}{', ' + detail if detail else ''})"


def _function_name(function: Callable) -> str:
    return getattr(getattr(function, "func", function), "__name__", type(function).__name__)  # func: a partial


def _named(function: Callable, sentence: str) -> str:
    """A wrong answer or condition by its function's name and the sentence's first words."""
    opening = sentence if len(sentence) <= 40 else sentence[:40] + "..."
    return f"{_function_name(function)}: {opening!r}"


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
    def test(args, expected, actual):
        return sentence if matches_mistake(actual[name], wrong_answer(*args), expected[name]) else None
    return Mistake(_label("same_as", name, _named(wrong_answer, sentence)), _names(name), test)


def when(reads: str | tuple[str, ...], condition: Callable[[tuple, Outputs, Outputs], bool], sentence: str) -> Mistake:
    """Any other recognisable pattern: ``condition(args, expected, actual)``, which looks at the
    outputs named in ``reads`` (one name or a tuple of them) and no others."""
    def test(args, expected, actual):
        return sentence if condition(args, expected, actual) else None
    return Mistake(_label("when", reads, _named(condition, sentence)), _names(reads), test)


def transposed(name: str, advice: str = "swap the factors of the matrix product, or transpose it") -> Mistake:
    def test(args, expected, actual):
        e = expected[name]
        if e.ndim == 2 and matches_mistake(actual[name], e.T, e):
            return f"{name} is the transpose of the right answer: {advice}."
        return None
    return Mistake(_label("transposed", name), _names(name), test)


def off_by_batch(name: str, batch_size: Callable[[tuple], int],
                 too_large: str = "the loss is a mean over the batch, so its gradient carries a factor 1/N",
                 too_small: str = "divide by N once only") -> Mistake:
    """``name`` is N times too large or too small, N = ``batch_size(args)``."""
    def test(args, expected, actual):
        n, e = batch_size(args), expected[name]
        if n > 1 and matches_mistake(actual[name], e * n, e):
            return f"{name} is N times too large, N the batch size: {too_large}."
        if n > 1 and matches_mistake(actual[name], e / n, e):
            return f"{name} is N times too small, N the batch size: {too_small}."
        return None
    return Mistake(_label("off_by_batch", name), _names(name), test)


def sign_flipped(name: str, advice: str = "look for a difference written the wrong way round") -> Mistake:
    def test(args, expected, actual):
        if matches_mistake(actual[name], -expected[name], expected[name]):
            return f"{name} has the right size but the opposite sign: {advice}."
        return None
    return Mistake(_label("sign_flipped", name), _names(name), test)


def padding_not_cropped(name: str, padding: Callable[[tuple], int]) -> Mistake:
    """``name`` (N, C, H, W) came back with ``padding(args)`` extra rows and columns on each side."""
    def test(args, expected, actual):
        p, a, e = padding(args), actual[name], expected[name]
        if p < 1 or a.shape != e.shape[:-2] + (e.shape[-2] + 2 * p, e.shape[-1] + 2 * p):
            return None
        if close(a[..., p:-p, p:-p], e):
            return (f"{name} still has the padding: at the end, crop `padding` rows and columns off each side, "
                    f"{name}_pad[:, :, padding:padding + H, padding:padding + W].")
        return None
    return Mistake(_label("padding_not_cropped", name), _names(name), test)


def assigned_not_added(name: str, *assigned: Callable[..., np.ndarray]) -> Mistake:
    """``name`` is what ``=`` instead of ``+=`` gives where windows overlap: each of ``assigned``
    computes that from the case's arguments (the last window written wins), in one way of
    writing the loops."""
    sentence = (f"{name} looks written with `=` where it needs `+=`: where windows overlap (or several "
                "filters reach one input), the gradients of all of them add up; with `=` only the last "
                "one is kept.")

    def test(args, expected, actual):
        if any(matches_mistake(actual[name], wrong(*args), expected[name]) for wrong in assigned):
            return sentence
        return None
    return Mistake(_label("assigned_not_added", name, ", ".join(map(_function_name, assigned))), _names(name), test)


def non_finite(name: str, advice: str) -> Mistake:
    """``name`` has inf or NaN where the right answer is finite."""
    def test(args, expected, actual):
        if not np.all(np.isfinite(actual[name])) and np.all(np.isfinite(expected[name])):
            return f"{name} contains inf or NaN: {advice}."
        return None
    return Mistake(_label("non_finite", name), _names(name), test)
