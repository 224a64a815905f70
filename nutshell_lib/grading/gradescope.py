"""Gradescope's autograder: ``nutshell autograder`` writes the bundle (a zip to upload), and the
bundle's ``run_autograder`` runs ``python3 -m nutshell_lib.grading.gradescope /autograder`` for
each submission inside Gradescope's container.

The bundle holds ``setup.sh``, ``run_autograder``, the kit without ``solutions/`` (``kit/``), and
the exercise's name and the seed in files under ``/autograder/source``, which the grader reads and
then makes unreadable to anyone but root. The learner's code runs in the grading sandbox (see
``sandbox.py``): under bubblewrap it sees no ``/autograder`` at all; where the container forbids
namespaces it runs as a user of its own, which can neither read ``/autograder/source`` nor write
``/autograder/results``.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from .grade import grade_batch
from .questions import EXERCISES
from .sandbox import LIBRARY, SandboxUnavailable, choose_mode

KIT_FILES = ("pyproject.toml", "README.md")
SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip bubblewrap
python3 -m pip install --break-system-packages /autograder/source/kit 2>/dev/null \\
    || python3 -m pip install /autograder/source/kit
# The reference answers, readable by root only: if the container forbids namespaces, the learner's
# code runs as a user of its own, which must not read them.
chmod -R go-rwx "$(python3 -c 'import nutshell_lib.grading as g, os; print(os.path.dirname(g.__file__))')"
python3 -m nutshell_lib warm
"""
RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this, as root, for every submission. AUTOGRADER_ROOT and PYTHON are for tests.
exec "${PYTHON:-python3}" -m nutshell_lib.grading.gradescope "${AUTOGRADER_ROOT:-/autograder}"
"""


def kit_root() -> Path:
    root = LIBRARY.parent
    if not (root / "pyproject.toml").is_file():
        raise FileNotFoundError(f"{root} is not a clone of the kit (no pyproject.toml): run `nutshell autograder` "
                                "from the kit's folder, installed with `make install`")
    return root


def write_bundle(exercise: str, seed: int, output: Path) -> list[str]:
    """Write the autograder zip; returns the names it holds."""
    if exercise not in EXERCISES:
        raise ValueError(f"exercise must be one of {sorted(EXERCISES)}, got {exercise!r}")
    root = kit_root()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text, mode in (("setup.sh", SETUP_SH, 0o755), ("run_autograder", RUN_AUTOGRADER, 0o755),
                                 ("exercise", exercise + "\n", 0o600), ("seed", f"{seed}\n", 0o600)):
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | mode) << 16
            bundle.writestr(info, text)
        for name in KIT_FILES:
            bundle.write(root / name, f"kit/{name}")
        for path in sorted(LIBRARY.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".json", ".txt"):
                bundle.write(path, f"kit/nutshell_lib/{path.relative_to(LIBRARY)}")
        return bundle.namelist()


def results_for(notebooks: list[Path], exercise: str, seed: int) -> dict:
    """Gradescope's results for a submission of exactly one notebook (or why it is not graded)."""
    if len(notebooks) != 1:
        found = ", ".join(path.name for path in notebooks) or "none"
        return {"score": 0.0, "output": f"Submit exactly one .ipynb notebook (found: {found}).", "tests": []}
    try:
        mode = choose_mode()
    except SandboxUnavailable as exc:
        return {"score": 0.0, "output": f"Not graded: the grader could not start its sandbox ({exc}); "
                                        "please tell your instructor.", "tests": []}
    with tempfile.TemporaryDirectory(prefix="nutshell-gradescope-") as work:
        (result,) = grade_batch(notebooks, Path(work) / "graded", seed=seed, exercise=exercise, jobs=1, sandbox=mode)
    return result


def run(root: Path) -> int:
    """Grade ``root/submission`` into ``root/results/results.json``."""
    source, results = root / "source", root / "results"
    exercise = (source / "exercise").read_text().strip()
    seed = int((source / "seed").read_text())
    if os.geteuid() == 0:  # no user but root may read the seed and the kit, or write the results
        source.chmod(0o700)
        results.mkdir(exist_ok=True)
        results.chmod(0o755)
    notebooks = sorted(path for path in (root / "submission").rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
    result = results_for(notebooks, exercise, seed)
    (results / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['score']:g}: {result['output']}")
    return 0


def main(args) -> int:
    import secrets

    seed = args.seed if args.seed is not None else secrets.randbelow(2 ** 31)
    if args.seed is None:
        print(f"grading seed {seed} (it is inside the zip; keep the zip to yourself)")
    names = write_bundle(args.exercise, seed, Path(args.output))
    print(f"wrote {args.output} ({len(names)} files): upload it as the autograder of the {args.exercise} "
          f"assignment; learners submit one notebook")
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
