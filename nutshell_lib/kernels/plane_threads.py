"""Run a block-range kernel on several threads, each taking blocks of planes (or images) in turn.

Why not Numba's ``prange``: a parallel kernel costs Numba about a second of LLVM work per kernel
and dtype on first use (it re-optimizes every function the loop calls), against a quarter second
for a plain one. The plain kernels release the GIL (``cpu_kernel`` sets ``nogil=True``), so a few
Python threads run them truly in parallel, and pooling, which mostly moves memory, runs as fast.
"""
from concurrent.futures import ThreadPoolExecutor
from itertools import count

import numba

# Starting threads costs about 0.1 ms, the time one thread needs for roughly this many elements.
ELEMENTS_PER_THREAD = 50_000

# The work is cut into this many blocks per thread, taken in turn by whichever thread is free.
# A helper thread that wakes up late (waking an idle core takes 50-100 us on a virtual machine)
# then leaves its share to the threads already running instead of making them wait.
BLOCKS_PER_THREAD = 4


_executor, _executor_size = None, 0


def _workers() -> ThreadPoolExecutor:
    """Helper threads for all calls, one fewer than Numba's thread count (the caller is the other):
    starting threads on every call costs about 0.1 ms, a tenth of pooling a LeNet batch. The pool
    starts its threads only when calls need them, and is rebuilt only when the thread count changes."""
    global _executor, _executor_size
    size = max(1, numba.get_num_threads() - 1)
    if _executor_size != size:
        if _executor is not None:
            _executor.shutdown(wait=False)
        _executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="nutshell-kernel")
        _executor_size = size
    return _executor


def thread_count(plane_count, element_count) -> int:
    """How many threads are worth using on ``plane_count`` planes that touch ``element_count``
    array elements: at most Numba's thread count (``NUMBA_NUM_THREADS`` or
    ``numba.set_num_threads``), one per plane, one per ``ELEMENTS_PER_THREAD`` elements."""
    return max(1, min(numba.get_num_threads(), plane_count, element_count // ELEMENTS_PER_THREAD))


def run_over_planes(kernel, plane_count, element_count, *args) -> list:
    """Call ``kernel(first_plane, last_plane, *args)`` on blocks that cover range(plane_count) and
    return the blocks' results in plane order.

    With one thread (see ``thread_count``) that is a single call over all planes. Otherwise the
    planes are cut into ``BLOCKS_PER_THREAD`` blocks per thread; the calling thread and the helper
    threads take the next block until none is left. The helpers are shared by every call, so
    ``kernel`` must not call ``run_over_planes`` itself.
    """
    threads = thread_count(plane_count, element_count)
    if threads == 1:
        return [kernel(0, plane_count, *args)]
    block_count = min(plane_count, threads * BLOCKS_PER_THREAD)
    bounds = [plane_count * b // block_count for b in range(block_count + 1)]
    next_block = count()  # next() on it is atomic under the GIL: each block goes to one thread
    results = [None] * block_count

    def take_blocks():
        while (block := next(next_block)) < block_count:
            results[block] = kernel(bounds[block], bounds[block + 1], *args)

    helpers = [_workers().submit(take_blocks) for _ in range(threads - 1)]
    try:
        take_blocks()
    finally:
        for helper in helpers:
            # A helper that has not started yet would find no block left: cancel it rather than
            # wait for it to wake. One that has started may be inside a block: wait for it.
            if not helper.cancel():
                helper.result()
    return results
