"""Keep the BLAS to one thread while an op runs its own threads.

The conv ops give each of their threads a share of the batch, and each thread calls the BLAS for
its share. If the BLAS started threads of its own as well, there would be more busy threads than
cores: OpenBLAS's threads spin while they wait for work, and on a 2-core laptop they and the
kernel threads slowed each other down to below the speed of one thread.
"""
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_blas = None


@contextmanager
def single_threaded_blas():
    """Within the block, the BLAS libraries loaded in this process use one thread each.

    The setting is process-wide, so other Python threads calling the BLAS meanwhile also get one
    thread; the previous thread counts come back when the block ends.
    """
    global _blas
    if _blas is None:  # finding the loaded libraries takes milliseconds: do it once
        _blas = ThreadpoolController().select(user_api="blas")
    with _blas.limit(limits=1):
        yield
