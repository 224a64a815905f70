"""Max and average pooling on the CPU against plain loops and central differences."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings

import oracles as oracle
from nutshell_lib.kernels import cpu_pool
from nutshell_lib.ops.device import cuda_status
from nutshell_lib.ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
POOLS = [(max_pool2d, max_pool2d_backward), (avg_pool2d, avg_pool2d_backward)]


pytestmark = pytest.mark.usefixtures("threads_even_for_small_arrays")


@settings(max_examples=60, deadline=None)
@given(oracle.pooling_cases())
def test_max_pool_matches_loops(case):
    x, size, stride = case
    y = max_pool2d(x, size, stride=stride, device="cpu")
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, oracle.max_pool(x, size, stride))
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    dx = max_pool2d_backward(dy, x, size, stride=stride, device="cpu")
    assert dx.dtype == x.dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, oracle.max_pool_backward(dy, x, size, stride), **TOLERANCE[x.dtype.type])


@settings(max_examples=100, deadline=None)
@given(oracle.tiling_pooling_cases())
def test_max_pool_backward_with_tiling_windows_matches_loops_exactly(case):
    """stride == size takes the tiled kernel (in float32): ties, NaNs and edges that no window covers."""
    x, size, stride = case
    y = max_pool2d(x, size, stride=stride, device="cpu")
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(x.dtype)
    dy.reshape(-1)[::3] = -0.0  # 0 + (-0.0) is +0.0, as on the GPU, which adds dy to a zero
    dx = max_pool2d_backward(dy, x, size, stride=stride, device="cpu")
    assert dx.dtype == x.dtype and dx.shape == x.shape
    np.testing.assert_array_equal(dx, oracle.max_pool_backward(dy, x, size, stride))
    # Bit for bit the general kernel's result (which the CUDA tests compare with the GPU's).
    general = np.empty_like(x)
    planes = [array.reshape(-1, *array.shape[2:]) for array in (dy, x, general)]
    cpu_pool.max_pool_backward(0, len(planes[1]), *planes, *size, *stride)
    np.testing.assert_array_equal(dx.view(np.uint8), general.view(np.uint8))


@pytest.mark.parametrize("shape, size", [((3, 7, 13, 12), (2, 3)), ((2, 2, 37, 35), (3, 3)), ((1, 3, 40, 40), (2, 2))])
def test_tiled_max_pool_backward_across_chunks_of_planes(shape, size):
    """One thread, so one kernel call takes every plane: planes of 156 elements (6 to a chunk of
    1024 corners: four chunks, the last one partial), and planes larger than a chunk (one plane
    each), with ties and NaNs."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 4, shape).astype(np.float32)
    x[rng.random(shape) < 0.02] = np.nan
    dy = rng.standard_normal(oracle.output_shape(x, size, size)).astype(np.float32)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        dx = max_pool2d_backward(dy, x, size, device="cpu")
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(dx, oracle.max_pool_backward(dy, x, size, size))


@settings(max_examples=60, deadline=None)
@given(oracle.pooling_cases(ties=False))
def test_avg_pool_matches_loops(case):
    x, size, stride = case
    y = avg_pool2d(x, size, stride=stride, device="cpu")
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y, oracle.avg_pool(x, size, stride), **TOLERANCE[x.dtype.type])
    dy = np.random.default_rng(2).standard_normal(y.shape).astype(x.dtype)
    dx = avg_pool2d_backward(dy, x, size, stride=stride, device="cpu")
    assert dx.dtype == x.dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, oracle.avg_pool_backward(dy, x, size, stride), **TOLERANCE[x.dtype.type])


@pytest.mark.parametrize("size, stride", [(2, None), (3, 1), ((2, 3), (1, 2)), ((3, 2), (4, 3))])
def test_backward_matches_central_differences(size, stride):
    rng = np.random.default_rng(3)
    # Distinct values at least 1 apart: a step of 1e-3 never changes which element is the maximum.
    x = rng.permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8).astype(np.float64)
    for forward, backward in POOLS:
        y = forward(x, size, stride=stride, device="cpu")
        dy = rng.standard_normal(y.shape)
        expected = oracle.central_difference(lambda: np.sum(forward(x, size, stride=stride, device="cpu") * dy), x, 1e-3)
        np.testing.assert_allclose(backward(dy, x, size, stride=stride, device="cpu"), expected, rtol=1e-8, atol=1e-8)


def test_ties_go_to_the_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 5.0, 5.0],
                    [5.0, 2.0, 0.0],
                    [5.0, 5.0, 5.0]]]])
    dx = max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, stride=1, device="cpu")
    # Windows at (0,0) and (0,1) pick (0,1); (1,0) picks (1,0); (1,1) picks (2,1), left of (2,2).
    np.testing.assert_array_equal(dx[0, 0], [[0, 2, 0], [1, 0, 0], [0, 1, 0]])


def test_nan_propagates_through_max_pool():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = np.nan
    y = max_pool2d(x, 2, device="cpu")
    assert np.isnan(y[0, 0, 0, 0]) and not np.isnan(y[0, 0, 1:, :]).any() and not np.isnan(y[0, 0, :, 1:]).any()
    dx = max_pool2d_backward(np.ones_like(y), x, 2, device="cpu")
    assert dx[0, 0, 1, 0] == 1 and dx[0, 0, :2, :2].sum() == 1


def test_stride_defaults_to_size_and_edges_are_dropped():
    x = np.random.default_rng(4).standard_normal((1, 2, 7, 5))
    for forward, _ in POOLS:
        y = forward(x, (3, 2), device="cpu")
        assert y.shape == (1, 2, 2, 2)
        np.testing.assert_array_equal(y, forward(x, (3, 2), stride=(3, 2), device="cpu"))


def test_any_memory_layout_gives_the_same_result():
    rng = np.random.default_rng(5)
    base = rng.standard_normal((3, 4, 12, 10)).astype(np.float32)
    strided = base[:, ::2, 1::2, ::-1]
    fortran = np.asfortranarray(strided)
    transposed = np.ascontiguousarray(strided.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    dy = rng.standard_normal((3, 2, 2, 4)).astype(np.float32)
    for forward, backward in POOLS:
        expected_y = forward(np.ascontiguousarray(strided), 3, stride=2, device="cpu")
        expected_dx = backward(dy, np.ascontiguousarray(strided), 3, stride=2, device="cpu")
        for x in (strided, fortran, transposed):
            np.testing.assert_array_equal(forward(x, 3, stride=2, device="cpu"), expected_y)
            np.testing.assert_array_equal(backward(dy[..., ::-1].copy()[..., ::-1], x, 3, stride=2, device="cpu"), expected_dx)


def test_integer_input_becomes_float64_and_dy_takes_x_dtype():
    x = np.arange(32).reshape(1, 2, 4, 4)
    y = avg_pool2d(x, 2, device="cpu")
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    dx = max_pool2d_backward(np.ones((1, 2, 2, 2)), x.astype(np.float32), 2, device="cpu")
    assert dx.dtype == np.float32


def test_result_does_not_depend_on_thread_count():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, (2, 3, 9, 8)).astype(np.float32)  # ties and overlapping windows
    dy = rng.standard_normal((2, 3, 4, 3)).astype(np.float32)
    threads = numba.get_num_threads()
    try:
        results = []
        for count in sorted({1, threads}):
            numba.set_num_threads(count)
            results.append([backward(dy, x, 3, stride=2, device="cpu") for _, backward in POOLS])
    finally:
        numba.set_num_threads(threads)
    for result in results[1:]:
        for got, expected in zip(result, results[0]):
            np.testing.assert_array_equal(got, expected)


def test_empty_batch():
    x = np.zeros((0, 3, 4, 4), np.float32)
    for forward, backward in POOLS:
        y = forward(x, 2, device="cpu")
        assert y.shape == (0, 3, 2, 2) and y.dtype == np.float32
        assert backward(y, x, 2, device="cpu").shape == x.shape


X = np.zeros((2, 3, 6, 5))


@pytest.mark.parametrize("function", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("x, size, stride, error, words", [
    (np.zeros((3, 6, 5)), 2, None, ValueError, ["x", "4 dimensions", "(3, 6, 5)"]),
    (X, (7, 2), None, ValueError, ["size", "(7, 2)", "(6, 5)", "(2, 3, 6, 5)"]),
    (X, (2, 6), None, ValueError, ["size", "(2, 6)"]),
    (X, 0, None, ValueError, ["size", "positive"]),
    (X, (2, -1), None, ValueError, ["size", "positive"]),
    (X, 2, 0, ValueError, ["stride", "positive"]),
    (X, 2, (1, -2), ValueError, ["stride", "positive"]),
    (X, 2.0, None, TypeError, ["size", "2.0"]),
    (X, 2, (1, 2, 3), TypeError, ["stride"]),
    (np.full((1, 1, 2, 2), "a"), 1, None, TypeError, ["x", "dtype"]),
    (np.zeros((1, 1, 2, 2), complex), 1, None, TypeError, ["x", "complex"]),
    ("x", 1, None, TypeError, ["x", "str"]),
])
def test_forward_rejects_bad_arguments(function, x, size, stride, error, words):
    with pytest.raises(error) as info:
        function(x, size, stride=stride, device="cpu")
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("function", [max_pool2d_backward, avg_pool2d_backward])
@pytest.mark.parametrize("dy, words", [
    (np.zeros((2, 3, 3, 3)), ["dy", "(2, 3, 3, 2)", "(2, 3, 3, 3)", "(2, 3, 6, 5)"]),
    (np.zeros((2, 3, 3)), ["dy", "4 dimensions", "(2, 3, 3)"]),
    (np.full((2, 3, 3, 2), "a"), ["dy", "dtype"]),
])
def test_backward_rejects_bad_dy(function, dy, words):
    with pytest.raises((ValueError, TypeError)) as info:
        function(dy, X, 2, device="cpu")
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("function", [max_pool2d, avg_pool2d])
def test_unknown_device(function):
    with pytest.raises(ValueError, match="device"):
        function(X, 2, device="gpu")


@pytest.mark.skipif(cuda_status()[0], reason="CUDA is usable here")
def test_cuda_without_a_gpu_says_why():
    with pytest.raises(RuntimeError, match="device='cuda'"):
        max_pool2d(X, 2, device="cuda")
