"""How long ``nutshell grade`` takes for a class: 30 submissions of one exercise.

The class is made from the solution notebook: 24 correct submissions, 3 unsolved ones, 2 with a
bug (an off-by-one output size) and 1 with an endless loop, which costs a full time-out.
Run: ``python -m benchmarks.bench_grading [EXERCISE ...]`` (default 04_conv and 06_cnn).
"""
from __future__ import annotations

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


def grade_class(exercise: str, directory: Path) -> tuple[float, str]:
    paths = []
    for kind, count in CLASS:
        for index in range(count):
            path = directory / f"{exercise}_{kind}_{index:02d}.ipynb"
            nbformat.write(student(kind, exercise), str(path))
            paths.append(str(path))
    command = [sys.executable, "-m", "nutshell_lib", "grade", *paths, "--out", str(directory / "graded"),
               "--seed", "1", "--jobs", "2", "--timeout", str(TIMEOUT_S)]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    scores = (directory / "graded" / "summary.csv").read_text().splitlines()[1:]
    return seconds, ", ".join(sorted({row.split(",")[2] for row in scores}))


def main(exercises=("04_conv", "06_cnn")) -> None:
    print(f"30 submissions per exercise ({', '.join(f'{n} {k}' for k, n in CLASS)}), --jobs 2, "
          f"--timeout {TIMEOUT_S}, {os.cpu_count()} cores")
    print(f"{'exercise':<14} {'seconds':>8}  distinct scores")
    for exercise in exercises:
        with tempfile.TemporaryDirectory() as directory:
            seconds, scores = grade_class(exercise, Path(directory))
        print(f"{exercise:<14} {seconds:8.1f}  {scores}")


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("04_conv", "06_cnn"))
