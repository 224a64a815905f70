"""Run a block-range kernel on several threads, each over its own block of planes (or images).

Why not Numba's ``prange``: a parallel kernel costs Numba about a second of LLVM work per kernel
and dtype on first use (it re-optimizes every function the loop calls), against a quarter second
for a plain one. The plain kernels release the GIL (``cpu_kernel`` sets ``nogil=True``), so a few
Python threads run them truly in parallel, and pooling, which mostly moves memory, runs as fast.
"""
from concurrent.futures import ThreadPoolExecutor

import numba

# Starting threads costs about 0.1 ms, the time one thread needs for roughly this many elements.
ELEMENTS_PER_THREAD = 50_000


_executor, _executor_size = None, 0


def _workers() -> ThreadPoolExecutor:
    """Helper threads for all calls, one fewer than Numba's thread count (the caller is the other):
    starting threads on every call costs about 0.1 ms, a tenth of pooling a LeNet batch. The pool
    starts its threads only when calls need them, and is rebuilt only when the thread count changes."""
    global _executor, _executor_size
    count = max(1, numba.get_num_threads() - 1)
    if _executor_size != count:
        if _executor is not None:
            _executor.shutdown(wait=False)
        _executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="nutshell-kernel")
        _executor_size = count
    return _executor


def thread_count(plane_count, element_count) -> int:
    """How many threads are worth using on ``plane_count`` planes that touch ``element_count``
    array elements: at most Numba's thread count (``NUMBA_NUM_THREADS`` or
    ``numba.set_num_threads``), one per plane, one per ``ELEMENTS_PER_THREAD`` elements."""
    return max(1, min(numba.get_num_threads(), plane_count, element_count // ELEMENTS_PER_THREAD))


def run_over_planes(kernel, plane_count, element_count, *args) -> list:
    """Call ``kernel(first_plane, last_plane, *args)`` on blocks that cover range(plane_count),
    as many blocks as ``thread_count`` allows, and return the blocks' results in order.

    The calling thread runs the first block itself while helper threads run the others. The
    helpers are shared by every call, so ``kernel`` must not call ``run_over_planes`` itself.
    """
    threads = thread_count(plane_count, element_count)
    if threads == 1:
        return [kernel(0, plane_count, *args)]
    bounds = [plane_count * t // threads for t in range(threads + 1)]
    workers = _workers()
    blocks = [workers.submit(kernel, first, last, *args) for first, last in zip(bounds[1:], bounds[2:])]
    return [kernel(bounds[0], bounds[1], *args)] + [block.result() for block in blocks]
