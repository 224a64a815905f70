"""How long ``nutshell grade`` takes for a class: 30 submissions of one exercise (or 30 x COPIES).

The class is made from the solution notebook: 24 correct submissions, 3 unsolved ones, 2 with a
bug (an off-by-one output size) and 1 with an endless loop, which costs a full time-out; COPIES
repeats that mix. Each child runs in the grading sandbox (``--no-sandbox`` to compare without).
Run: ``python -m benchmarks.bench_grading [--copies N] [--no-sandbox] [EXERCISE ...]`` (default
04_conv and 06_cnn).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CLASS = (("correct", 24), ("unsolved", 3), ("buggy", 2), ("endless", 1))
TIMEOUT_S = 20


def student(kind: str, exercise: str) -> nbformat.NotebookNode:
    folder = "exercises" if kind == "unsolved" else "solutions"
    notebook = nbformat.read(str(ROOT / folder / f"{exercise}.ipynb"), as_version=4)
    graded = [cell for cell in notebook.cells if cell.cell_type == "code" and "# BEGIN SOLUTION" in cell.source]
    if kind == "buggy":
        graded[0].source = graded[0].source.replace("// stride + 1\n", "// stride\n", 1)  # an off-by-one size
    elif kind == "endless":
        graded[0].source = graded[0].source.replace("# BEGIN SOLUTION", "# BEGIN SOLUTION\n    while True:\n        pass")
    return notebook


def grade_class(exercise: str, directory: Path, copies: int = 1, sandbox: bool = True) -> tuple[float, str]:
    paths = []
    for kind, count in CLASS:
        for index in range(count * copies):
            path = directory / f"{exercise}_{kind}_{index:02d}.ipynb"
            nbformat.write(student(kind, exercise), str(path))
            paths.append(str(path))
    command = [sys.executable, "-m", "nutshell_lib", "grade", *paths, "--out", str(directory / "graded"),
               "--seed", "1", "--jobs", "2", "--timeout", str(TIMEOUT_S), "--quiet"] + ([] if sandbox else ["--no-sandbox"])
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    scores = (directory / "graded" / "summary.csv").read_text().splitlines()[1:]
    return seconds, ", ".join(sorted({row.split(",")[2] for row in scores}))


def main(exercises=("04_conv", "06_cnn"), copies: int = 1, sandbox: bool = True) -> None:
    print(f"{30 * copies} submissions per exercise ({', '.join(f'{n * copies} {k}' for k, n in CLASS)}), --jobs 2, "
          f"--timeout {TIMEOUT_S}, {os.cpu_count()} cores, {'sandboxed' if sandbox else 'no sandbox'}")
    print(f"{'exercise':<14} {'seconds':>8}  distinct scores")
    for exercise in exercises:
        with tempfile.TemporaryDirectory() as directory:
            seconds, scores = grade_class(exercise, Path(directory), copies, sandbox)
        print(f"{exercise:<14} {seconds:8.1f}  {scores}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=["04_conv", "06_cnn"])
    parser.add_argument("--copies", type=int, default=1, help="repeat the class of 30 this many times")
    parser.add_argument("--no-sandbox", action="store_true")
    arguments = parser.parse_args()
    main(tuple(arguments.exercises), arguments.copies, not arguments.no_sandbox)
