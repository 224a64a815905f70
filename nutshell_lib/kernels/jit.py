"""One place that decides how CPU kernels are compiled."""
import numba
import numpy as np

from .shared_cache import seed_from_install


# The specialised fast kernels (the direct convolution, the tiled max-pool backward) are compiled
# for this dtype only, the one networks train in; other dtypes take the general kernels. float64 is
# the course's dtype for checking gradients, where speed does not matter but a second compilation
# of each fast kernel would (about 2.8 s of the cold compile, measured).
FAST_KERNEL_DTYPE = np.float32


# Only what vectorising a sum needs: reorder the additions, ignore the sign of zero, fuse multiply
# and add. Not "fast": NaN and infinity keep their meaning.
_REASSOCIATE = {"reassoc", "nsz", "contract"}


def cpu_kernel(function=None, *, parallel=False, reassociate=False):
    """Compile a plain Python function with ``numba.njit``, cached on disk.

    The function stays importable as plain Python (the source is unchanged), which is what
    ``NUMBA_DISABLE_JIT=1`` runs. ``parallel=True`` turns ``numba.prange`` loops into threads.
    ``reassociate=True`` lets the compiler reorder floating-point sums (so it can split a sum over
    vector lanes); results then differ from the written order by rounding only.
    """
    def wrap(python_function):
        # error_model="numpy": an integer // or % by zero gives 0 instead of raising, so Numba emits
        # no test and no exception path for each one. The ops validate shapes before any kernel
        # runs, so no kernel divides by zero; and the cold compile of all kernels took about 15%
        # less time (docs/benchmarks.md, "JIT cost").
        return numba.njit(python_function, cache=True, parallel=parallel, nogil=True, error_model="numpy",
                          fastmath=_REASSOCIATE if reassociate else False)

    return wrap if function is None else wrap(function)


def _cache_probe(n):
    total = 0
    for i in numba.prange(n):
        total += i
    return total


# A tiny cached parallel kernel: `nutshell doctor` runs it to learn the threading layer and
# to find where this package's kernels are cached.
cache_probe = cpu_kernel(_cache_probe, parallel=True)

# Every kernel module imports this one before defining its kernels, so a learner on a shared,
# read-only install gets the admin's compiled kernels in place first (see shared_cache).
seed_from_install(_cache_probe)
