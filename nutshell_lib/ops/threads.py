"""How the CPU ops use the cores: one scheduler, one BLAS limit, and the constants that tune them.

An op cuts its work into blocks of a range (planes of an NCHW array for pooling, images of the
batch for conv, rows for dense) and the kit's threads take the blocks in turn. Why not Numba's
``prange``: a parallel kernel costs Numba about a second of LLVM work per kernel and dtype on
first use, against a quarter second for a plain one. The plain kernels release the GIL
(``cpu_kernel`` sets ``nogil=True``), so a few Python threads run them truly in parallel.

While the kit's threads run BLAS products (conv, dense), the BLAS is held to one thread: left to
itself it would start threads of its own, and OpenBLAS's threads keep spinning for a while after
every product, competing with the kernels' threads for the same cores. On a 2-core laptop that
made LeNet training slower with two threads than with one, and cost twice the CPU time.
"""
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import count

import numba
from threadpoolctl import ThreadpoolController

# Tuning, measured on the benchmark shapes (docs/benchmarks.md) ------------------------------------

# Starting threads costs about 0.1 ms, the time one thread needs to touch roughly this many array
# elements: work smaller than that stays on the calling thread.
ELEMENTS_WORTH_A_THREAD = 50_000

# Blocks per thread, taken in turn by whichever thread is free: a helper that wakes up late (waking
# an idle core takes 50-100 us on a virtual machine) leaves its share to the threads already running.
BLOCKS_PER_THREAD = 4

# A matrix product of m multiply-adds counts as m / MULTIPLY_ADDS_PER_ELEMENT elements of work, so
# it is split among threads only from about 50,000 * 2,000 = 10^8 multiply-adds. Below that, each
# thread's share of a product costs a fresh packing of the operands and the split lost time:
# Dense layers from 0.6 to 200 million multiply-adds, one thread against two, measured.
MULTIPLY_ADDS_PER_ELEMENT = 2_000

# Most elements of the im2col column matrix one thread holds at once: 512 KiB in float32, so it
# stays in the core's L2 cache between im2col writing it and the BLAS reading it. It measured
# 10-40% faster than 8 MiB on the conv benchmark shapes with 2 threads.
COLUMN_CHUNK_ELEMENTS = 2**17


# The scheduler ---------------------------------------------------------------------------------

_executor, _executor_size = None, 0
_blas = None


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


def thread_count(block_count, element_count) -> int:
    """How many threads are worth using on ``block_count`` indivisible units that touch
    ``element_count`` array elements: at most Numba's thread count (``NUMBA_NUM_THREADS`` or
    ``numba.set_num_threads``), one per unit, one per ``ELEMENTS_WORTH_A_THREAD`` elements."""
    return max(1, min(numba.get_num_threads(), block_count, element_count // ELEMENTS_WORTH_A_THREAD))


def run_in_blocks(function, length, element_count, *args) -> list:
    """Call ``function(first, last, *args)`` on blocks that cover range(length) and return the
    blocks' results in order.

    With one thread (see ``thread_count``) that is a single call over the whole range. Otherwise
    the range is cut into ``BLOCKS_PER_THREAD`` blocks per thread; the calling thread and the
    helper threads take the next block until none is left. The helpers are shared by every call,
    so ``function`` must not call ``run_in_blocks`` itself.
    """
    threads = thread_count(length, element_count)
    if threads == 1:
        return [function(0, length, *args)]
    block_count = min(length, threads * BLOCKS_PER_THREAD)
    bounds = [length * b // block_count for b in range(block_count + 1)]
    next_block = count()  # next() on it is atomic under the GIL: each block goes to one thread
    results = [None] * block_count

    def take_blocks():
        while (block := next(next_block)) < block_count:
            results[block] = function(bounds[block], bounds[block + 1], *args)

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


@contextmanager
def single_threaded_blas():
    """Within the block, the BLAS libraries loaded in this process use one thread each.

    The setting is process-wide, so other Python threads calling the BLAS meanwhile also get one
    thread; the previous thread counts come back when the block ends. Blocks nest. Blocks that
    overlap in two Python threads can leave the BLAS with one thread afterwards (each restores what
    it saw on entry), and OpenBLAS ignores a count set back from another thread, so the kit's
    ops are meant to be called from one Python thread at a time (their results are right either way).

    The libraries' own setters are called directly: threadpoolctl's ``limit`` context re-reads every
    library's state on each use, which cost a third of a millisecond per LeNet training step.
    """
    global _blas
    if _blas is None:  # finding the loaded libraries takes milliseconds: do it once
        _blas = ThreadpoolController().select(user_api="blas").lib_controllers
    previous = [library.get_num_threads() for library in _blas]
    for library in _blas:
        library.set_num_threads(1)
    try:
        yield
    finally:
        for library, threads in zip(_blas, previous):
            library.set_num_threads(threads)


def run_blas_in_blocks(function, length, element_count, *args) -> list:
    """``run_in_blocks`` with the BLAS on one thread meanwhile: for functions that call the BLAS."""
    with single_threaded_blas():
        return run_in_blocks(function, length, element_count, *args)
