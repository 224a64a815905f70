"""The test configuration turns numba-cuda's performance warnings into errors, and the launcher
silences the one a course network's small grids raise, and only that one.

numba-cuda 0.30 raises ``numba.cuda.core.errors.NumbaPerformanceWarning`` (not numba's
``numba.core.errors`` class of the same name) for "Grid size ... under-utilization"; the simulator
never launches real grids, so these tests raise the warning themselves and need no GPU.
"""
import warnings

import pytest

from nutshell_lib.kernels.cuda_launch import _small_grids_allowed
from nutshell_lib.ops.device import is_simulator

numba_cuda_errors = pytest.importorskip("numba.cuda.core.errors")
SMALL_GRID = "Grid size 1 will likely result in GPU under-utilization due to low occupancy."


@pytest.mark.skipif(is_simulator(), reason="the simulator replaces numba.cuda's dispatcher")
def test_the_dispatcher_warns_with_numba_cudas_own_class():
    from numba.cuda import dispatcher

    assert dispatcher.errors.NumbaPerformanceWarning is numba_cuda_errors.NumbaPerformanceWarning


def test_numba_cudas_performance_warning_is_an_error_in_the_tests():
    with pytest.raises(numba_cuda_errors.NumbaPerformanceWarning):
        warnings.warn(numba_cuda_errors.NumbaPerformanceWarning("host copy of a non-contiguous array"))


def test_the_launcher_silences_the_small_grid_warning_and_nothing_else():
    with _small_grids_allowed():
        warnings.warn(numba_cuda_errors.NumbaPerformanceWarning(SMALL_GRID))
        with pytest.raises(numba_cuda_errors.NumbaPerformanceWarning):
            warnings.warn(numba_cuda_errors.NumbaPerformanceWarning("host copy of a non-contiguous array"))
