"""The one CUDA launcher: grid size, and Numba's small-grid warning silenced at every launch.

The launcher itself needs no GPU (it only indexes and calls the kernel), so the first tests run
everywhere with a stand-in kernel. The last ones make the CUDA simulator's kernels warn as a real
GPU does and run every op: pyproject.toml turns performance warnings into errors, so an op that
launched without the launcher would fail here.
"""
import warnings

import numpy as np
import pytest

from nutshell_lib.kernels.cuda_launch import THREADS_PER_BLOCK, blocks_for, launch, launch_tiles
from nutshell_lib.ops.device import cuda_status

SMALL_GRID = "Grid size 1 will likely result in GPU under-utilization due to low occupancy."


class RecordingKernel:
    """Records each launch's configuration and arguments; warns like Numba when configured."""

    def __init__(self, warning=SMALL_GRID):
        self.warning, self.launches = warning, []

    def __getitem__(self, configuration):
        warnings.warn(self.warning, UserWarning)
        return lambda *args: self.launches.append((configuration, args))


@pytest.mark.parametrize("items, blocks", [(1, 1), (THREADS_PER_BLOCK, 1), (THREADS_PER_BLOCK + 1, 2), (1000, 8)])
def test_one_thread_per_item(items, blocks):
    kernel = RecordingKernel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        launch(kernel, items, "a", 3)
    assert kernel.launches == [((blocks, THREADS_PER_BLOCK), ("a", 3))]
    assert blocks_for(items) * THREADS_PER_BLOCK >= items > (blocks_for(items) - 1) * THREADS_PER_BLOCK


def test_tiles_cover_the_output():
    kernel = RecordingKernel()
    launch_tiles(kernel, 17, 5, 16, "c")
    assert kernel.launches == [(((1, 2), (16, 16)), ("c",))]  # x along the 5 columns, y along the 17 rows


def test_nothing_to_do_launches_nothing():
    kernel = RecordingKernel()
    launch(kernel, 0)
    launch_tiles(kernel, 0, 3, 16)
    assert kernel.launches == []


def test_numba_cudas_own_performance_warning_is_an_error_here_but_not_the_small_grid_one():
    """numba-cuda 0.30 raises its own class, not numba's (``pyproject.toml`` names both); the
    simulator launches no real grids, so the warning is raised by hand."""
    errors = pytest.importorskip("numba.cuda.core.errors")
    from nutshell_lib.kernels.cuda_launch import _small_grids_allowed
    from nutshell_lib.ops.device import is_simulator

    if not is_simulator():
        from numba.cuda import dispatcher  # the simulator has its own dispatcher

        assert dispatcher.errors.NumbaPerformanceWarning is errors.NumbaPerformanceWarning
    with pytest.raises(errors.NumbaPerformanceWarning):
        warnings.warn(errors.NumbaPerformanceWarning("a host copy of a non-contiguous array"))
    with _small_grids_allowed():
        warnings.warn(errors.NumbaPerformanceWarning(SMALL_GRID))
        with pytest.raises(errors.NumbaPerformanceWarning):
            warnings.warn(errors.NumbaPerformanceWarning("a host copy of a non-contiguous array"))


def test_other_warnings_still_reach_the_caller():
    with pytest.warns(UserWarning, match="something else"):
        launch(RecordingKernel("something else"), 4)


@pytest.mark.cuda
@pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}")
def test_every_op_launches_through_the_launcher(monkeypatch):
    from nutshell_lib.ops.device import is_simulator

    if not is_simulator():
        pytest.skip("a real GPU warns by itself; this test teaches the simulator to")
    from numba import cuda
    from numba.cuda.simulator.kernel import FakeCUDAKernel

    from nutshell_lib.kernels import cuda_conv
    from nutshell_lib.ops import conv, elementwise, gpu_steps, linear, pool

    configure = FakeCUDAKernel.__getitem__

    def warning_configure(self, configuration):
        warnings.warn(SMALL_GRID, UserWarning)
        return configure(self, configuration)

    monkeypatch.setattr(FakeCUDAKernel, "__getitem__", warning_configure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rng = np.random.default_rng(0)
        x, w = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((2, 1, 3, 3))
        y = conv.conv2d(x, w, device="cuda")
        conv.conv2d_backward(y, x, w, device="cuda")
        pools = ((pool.max_pool2d, pool.max_pool2d_backward), (pool.avg_pool2d, pool.avg_pool2d_backward))
        for forward, backward in pools:
            backward(forward(x, 2, device="cuda"), x, 2, device="cuda")
        rows, weights = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
        out = linear.linear(rows, weights, np.zeros(2), device="cuda")
        linear.linear_backward(out, rows, weights, device="cuda")
        on_gpu = cuda.to_device(rows)
        relu = elementwise.RELU
        gpu_steps.activation_backward(relu, on_gpu, on_gpu, gpu_steps.activation(relu, on_gpu, 0.0), 0.0)
        gpu_steps.softmax_cross_entropy(on_gpu, np.array([0, 1, 2]))
        gpu_steps.sgd_update(on_gpu, on_gpu, {}, 0.1, 0.9, False, 0.0)
        gpu_steps.adam_update(on_gpu, on_gpu, {}, 0.1, 0.9, 0.999, 1e-8, 0.0, False)
        gpu_steps.crop(gpu_steps.pad(cuda.to_device(x), (1, 1), -np.inf), (1, 1))
    with pytest.raises(UserWarning, match="Grid size"), warnings.catch_warnings():
        warnings.simplefilter("error")
        cuda_conv.plane_sums[1, 1]  # the planted warning fires wherever the launcher is not used
