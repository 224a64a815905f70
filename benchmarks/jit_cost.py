"""How long the Numba kernels take to compile cold, and to load from a warm cache.

Each measurement runs in a fresh Python process with its own NUMBA_CACHE_DIR, so nothing compiled
earlier in this session can hide the cost.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

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


def seconds(script: str, cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache_dir:
        cold = seconds(COLD, cache_dir)
        warm_all = seconds(COLD, cache_dir)
        first_call = seconds(FIRST_CALL, cache_dir)
    print("JIT cost (fresh processes, private NUMBA_CACHE_DIR)")
    print(f"  cold compile of all kernels, float32 + float64:   {cold:6.2f} s   (target <= 10 s)")
    print(f"  load all kernels from the warm cache:            {warm_all:6.2f} s")
    print(f"  import nutshell_lib + first conv2d, warm cache:  {first_call:6.2f} s   (target <= 1 s)")


if __name__ == "__main__":
    main()
