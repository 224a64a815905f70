"""Run a plane-range kernel on several threads, each over its own block of planes.

Why not Numba's ``prange``: a parallel kernel costs Numba about a second of LLVM work per kernel
and dtype on first use (it re-optimizes every function the loop calls), against a quarter second
for a plain one. The plain kernels release the GIL (``cpu_kernel`` sets ``nogil=True``), so a few
Python threads run them truly in parallel, and pooling, which mostly moves memory, runs as fast.
"""
from concurrent.futures import ThreadPoolExecutor

import numba


def run_over_planes(kernel, plane_count, *args):
    """Call ``kernel(first_plane, last_plane, *args)`` on blocks that cover range(plane_count).

    Uses Numba's thread count (``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``), at most one
    thread per plane.
    """
    threads = max(1, min(numba.get_num_threads(), plane_count))
    bounds = [plane_count * t // threads for t in range(threads + 1)]
    if threads == 1:
        kernel(0, plane_count, *args)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        blocks = [pool.submit(kernel, first, last, *args) for first, last in zip(bounds, bounds[1:])]
    for block in blocks:
        block.result()
