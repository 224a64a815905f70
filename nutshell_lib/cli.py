"""The ``nutshell`` command (also ``python -m nutshell_lib``)."""
from __future__ import annotations

import argparse
import os
import sys


def warm() -> int:
    """Compile every kernel for float32 and float64 so the course starts without JIT pauses."""
    import time

    from .warmup import compile_all_kernels, several_cores

    start = time.perf_counter()
    compile_all_kernels(in_child_processes=several_cores())
    print(f"Numba kernels ready in {time.perf_counter() - start:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nutshell", description="Deep Learning in a Nutshell course kit")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="print versions, threads, CUDA and Numba-cache status")
    commands.add_parser("warm", help="compile (or load from cache) every Numba kernel")

    release = commands.add_parser("release", help="write exercises/ from the solution notebooks in solutions/")
    release.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    release.add_argument("--exercises", default="exercises", help="folder to write (default: exercises)")
    release.add_argument("--check", action="store_true", help="write nothing; exit 1 if exercises/ is stale")
    release.add_argument("--execute", action="store_true", help="first run the solutions and store their outputs")

    grade = commands.add_parser("grade", help="grade submitted notebooks into Gradescope results files")
    grade.add_argument("submissions", nargs="+", help="submitted .ipynb files")
    grade.add_argument("--out", required=True, help="folder for <submission>.json and summary.csv")
    grade.add_argument("--seed", type=int, help="seed of the grading cases (default: a fresh one, printed)")
    grade.add_argument("--exercise", help="exercise name, e.g. 01_sigmoid (default: from the notebook's metadata)")
    grade.add_argument("--timeout", type=float, default=20.0, help="seconds per question (default 20)")
    grade.add_argument("--memory-mb", type=int, default=2048, help="memory limit per question (default 2048)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run the learners' code unconfined, as you (only for code you trust)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")

    autograder = commands.add_parser("autograder", help="write a Gradescope autograder zip for one exercise")
    autograder.add_argument("--exercise", required=True, help="exercise name, e.g. 04_conv")
    autograder.add_argument("--seed", type=int, help="seed of the grading cases (default: a fresh one, printed)")
    autograder.add_argument("-o", "--output", default="autograder.zip", help="zip to write (default: autograder.zip)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        from .doctor import main as doctor_main

        return doctor_main()
    if args.command == "warm":
        return warm()
    if args.command == "release":
        from .grading.release import main as release_main

        return release_main(args)
    if args.command == "grade":
        from .grading.grade import main as grade_main

        return grade_main(args)
    if args.command == "autograder":
        from .grading.gradescope import main as autograder_main

        return autograder_main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
