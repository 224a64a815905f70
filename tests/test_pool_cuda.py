"""The CUDA pooling kernels agree exactly with the CPU kernels (on a GPU or the CUDA simulator).

Shapes stay small: under NUMBA_ENABLE_CUDASIM=1 every GPU thread is a Python thread.
"""
import numpy as np
import pytest
from hypothesis import given, settings

import oracles as oracle
from nutshell_lib.ops.device import cuda_status
from nutshell_lib.ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA is not usable: {cuda_status()[1]}"),
]
POOLS = [(max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)]


def assert_devices_agree(x, size, stride, dy_seed=0):
    for forward, backward in POOLS:
        y = forward(x, size, stride=stride, device="cpu")
        y_cuda = forward(x, size, stride=stride, device="cuda")
        assert y_cuda.dtype == x.dtype
        np.testing.assert_array_equal(y_cuda, y)
        dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(x.dtype)
        dx_cuda = backward(dy, x, size, stride=stride, device="cuda")
        assert dx_cuda.dtype == x.dtype
        np.testing.assert_array_equal(dx_cuda, backward(dy, x, size, stride=stride, device="cpu"))


@settings(max_examples=25, deadline=None)
@given(oracle.pooling_cases(max_batch=2, max_channels=2, max_side=7))
def test_cuda_matches_cpu_exactly(case):
    assert_devices_agree(*case)


@settings(max_examples=25, deadline=None)
@given(oracle.tiling_pooling_cases(max_batch=2, max_channels=2, max_side=7))
def test_cuda_matches_the_tiled_cpu_kernel_exactly(case):
    """stride == size: the CPU's tiled backward kernel, with ties, NaNs and uncovered edges."""
    assert_devices_agree(*case)


@pytest.mark.parametrize("size, stride", [(3, 1), ((2, 3), (1, 2)), ((3, 2), (4, 3)), (2, None)])
def test_cuda_matches_loops_with_overlapping_and_sparse_windows(size, stride):
    x = np.random.default_rng(1).integers(0, 3, (1, 2, 7, 6)).astype(np.float32)  # ties everywhere
    pair = (size, size) if isinstance(size, int) else size
    steps = pair if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    np.testing.assert_array_equal(max_pool2d(x, size, stride=stride, device="cuda"), oracle.max_pool(x, pair, steps))
    dy = np.random.default_rng(2).standard_normal(oracle.output_shape(x, pair, steps)).astype(np.float32)
    np.testing.assert_allclose(max_pool2d_backward(dy, x, size, stride=stride, device="cuda"),
                               oracle.max_pool_backward(dy, x, pair, steps), rtol=1e-6)
    np.testing.assert_allclose(avg_pool2d_backward(dy, x, size, stride=stride, device="cuda"),
                               oracle.avg_pool_backward(dy, x, pair, steps), rtol=1e-5, atol=1e-7)


def test_cuda_propagates_nan_like_the_cpu():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = x[0, 0, 3, 3] = np.nan
    assert_devices_agree(x, 2, 1)
    assert np.isnan(max_pool2d(x, 2, device="cuda")[0, 0, 0, 0])
