"""No marks for calling the library's own implementation of what a question asks the learner to
write (``nutshell_lib.conv2d`` inside ``conv2d_naive``).

While such an exercise is graded, the child does not get the library: it gets a stand-in package
``nutshell_lib`` in which every name is a tripwire, so ``import nutshell_lib as nl`` still works
but ``nl.conv2d(...)`` raises an error that names the question, and importing a submodule fails.
The code is absent from the child, so nothing the learner writes can reach it; the grader reads
the tripwire's words in a case's error and gives that question no points.
"""
from __future__ import annotations

from pathlib import Path

from .questions import Exercise

# exercise -> {question: the library function that does the question's work}
WITHHELD = {
    "04_conv": {"conv2d_naive": "nutshell_lib.conv2d", "conv2d_im2col": "nutshell_lib.conv2d",
                "conv2d_backward_naive": "nutshell_lib.conv2d_backward"},
    "05_pool": {"avg_pool_backward": "nutshell_lib.avg_pool2d_backward", "max_pool_padded": "nutshell_lib.max_pool2d",
                "max_pool_padded_backward": "nutshell_lib.max_pool2d_backward"},
}
TRIPWIRE = "the library is withheld while this exercise is graded"
MISSING_SUBMODULE = "No module named 'nutshell_lib."

STUB = '''"""Stand-in for nutshell_lib while {exercise} is graded: {tripwire}."""


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)

    def tripwire(*args, **kwargs):
        raise RuntimeError(f"nutshell_lib.{{name}} was called, but {tripwire}: write {questions} yourself")

    return tripwire
'''


def withheld(exercise: Exercise) -> dict[str, str]:
    return WITHHELD.get(exercise.name, {})


def write_stub(exercise: Exercise, folder: Path) -> Path:
    """Write the stand-in package into ``folder``; returns the package folder."""
    package = folder / "nutshell_lib"
    package.mkdir(parents=True)
    questions = " and ".join(f"`{name}`" for name in withheld(exercise))
    (package / "__init__.py").write_text(STUB.format(exercise=exercise.name, tripwire=TRIPWIRE, questions=questions))
    return package


def borrowed_line(question_name: str, exercise: Exercise, messages: list[str]) -> str | None:
    """The verdict for a question whose cases called the withheld library, or None."""
    function = withheld(exercise).get(question_name)
    if function and any(TRIPWIRE in message or MISSING_SUBMODULE in message for message in messages):
        return (f"`{question_name}` calls the library ({function} or another part of nutshell_lib), which "
                f"does the work this question asks you to write: no points for this question. Write the "
                f"loops yourself, with NumPy only.")
    return None
