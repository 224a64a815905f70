"""The ``nutshell`` command (also ``python -m nutshell_lib``)."""
from __future__ import annotations

import argparse
import sys


def warm() -> int:
    """Compile every kernel for float32 and float64 so the course starts without JIT pauses."""
    import time

    from .warmup import compile_all_kernels

    start = time.perf_counter()
    compile_all_kernels()
    print(f"Numba kernels ready in {time.perf_counter() - start:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nutshell", description="Deep Learning in a Nutshell course kit")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="print versions, threads, CUDA and Numba-cache status")
    commands.add_parser("warm", help="compile (or load from cache) every Numba kernel")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        from .doctor import main as doctor_main

        return doctor_main()
    if args.command == "warm":
        return warm()
    return 2


if __name__ == "__main__":
    sys.exit(main())
