"""Run an op's work on the kit's threads, with the BLAS kept to one thread.

The conv and dense ops share blocks of the batch among the kit's threads, and each thread calls
the BLAS for its blocks. Left to itself, the BLAS would start threads of its own as well, and
OpenBLAS's threads keep spinning for a while after every product they share: in a network they
then compete with the kernels' threads for the same cores. On a 2-core laptop that made LeNet
training slower with two threads than with one, and cost twice the CPU time.
"""
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

from ..kernels.plane_threads import run_over_planes

_blas = None


@contextmanager
def single_threaded_blas():
    """Within the block, the BLAS libraries loaded in this process use one thread each.

    The setting is process-wide, so other Python threads calling the BLAS meanwhile also get one
    thread; the previous thread counts come back when the block ends. Blocks nest. Blocks that
    overlap in two Python threads can leave the BLAS with one thread afterwards (each restores what
    it saw on entry), and OpenBLAS ignores a count set back from another thread, so the kit's
    ops are meant to be called from one Python thread at a time (their results are right either way).
    """
    global _blas
    if _blas is None:  # finding the loaded libraries takes milliseconds: do it once
        _blas = ThreadpoolController().select(user_api="blas")
    with _blas.limit(limits=1):
        yield


def run_over_batch(function, batch, element_count, *args) -> list:
    """Call ``function(first, last, *args)`` on blocks that cover range(batch), shared among the
    kit's threads by ``plane_threads.run_over_planes`` (which decides from ``element_count`` how
    many threads are worth it), the BLAS on one thread meanwhile; return the blocks' results in order."""
    with single_threaded_blas():
        return run_over_planes(function, batch, element_count, *args)
