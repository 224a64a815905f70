"""How long the Numba kernels take to compile cold, and to load from a warm cache.

Each measurement runs in a fresh Python process with its own NUMBA_CACHE_DIR, on a copy of the
package's source without its ``__pycache__`` folders, so nothing compiled earlier can hide the cost
(the kit copies a shipped cache into the learner's own on import, see ``kernels/shared_cache.py``).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLD = """
import time
start = time.perf_counter()
from nutshell_lib.warmup import compile_all_kernels
compile_all_kernels()
print(time.perf_counter() - start)
"""

FIRST_CALL = """
import time
start = time.perf_counter()
import numpy as np
import nutshell_lib
nutshell_lib.conv2d(np.ones((1, 1, 4, 4), np.float32), np.ones((1, 1, 3, 3), np.float32), device="cpu")
print(time.perf_counter() - start)
"""


def seconds(script: str, cache_dir: str, source_root: str) -> float:
    """What ``script`` prints last, run in a fresh process on the copy with the given cache."""
    # Run in the copy: `python -c` puts its working folder first on sys.path, and the repository's
    # own nutshell_lib (with its compiled kernels) would be imported instead.
    result = subprocess.run([sys.executable, "-c", script], env=_environment(cache_dir, source_root),
                            cwd=source_root, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def warm_command_seconds(cache_dir: str, source_root: str) -> float:
    """Wall time of ``python -m nutshell_lib warm`` (what `make` and `nutshell warm` run)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nutshell_lib", "warm"], env=_environment(cache_dir, source_root),
                   cwd=source_root, capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def _environment(cache_dir: str, source_root: str) -> dict:
    return dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=source_root)


def main() -> None:
    package = Path(importlib.util.find_spec("nutshell_lib").submodule_search_locations[0])
    with tempfile.TemporaryDirectory() as cache_dir, tempfile.TemporaryDirectory() as source_root, \
            tempfile.TemporaryDirectory() as second_cache_dir:
        shutil.copytree(package, Path(source_root) / "nutshell_lib", ignore=shutil.ignore_patterns("__pycache__"))
        cold = seconds(COLD, cache_dir, source_root)
        warm_all = seconds(COLD, cache_dir, source_root)
        first_call = seconds(FIRST_CALL, cache_dir, source_root)
        cold_command = warm_command_seconds(second_cache_dir, source_root)
    print(f"JIT cost (fresh processes, private NUMBA_CACHE_DIR, {os.cpu_count()} cores)")
    print(f"  cold compile of all kernels, float32 + float64:   {cold:6.2f} s   (one process)")
    print(f"  `nutshell warm` from cold, the same kernels:      {cold_command:6.2f} s   (target <= 10 s; one process per kernel group)")
    print(f"  load all kernels from the warm cache:            {warm_all:6.2f} s")
    print(f"  import nutshell_lib + first conv2d, warm cache:  {first_call:6.2f} s   (target <= 1 s)")


if __name__ == "__main__":
    main()
