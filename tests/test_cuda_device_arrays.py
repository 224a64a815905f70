"""Device arrays in, device arrays out; NumPy in, NumPy out; and the tiled matrix product.

Runs on a real GPU or under NUMBA_ENABLE_CUDASIM=1 (`make test-cudasim`), where every GPU thread
is a Python thread: shapes stay tiny, but cross the 16-wide tile so the edges are exercised.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nutshell_lib.ops.conv import conv2d, conv2d_backward
from nutshell_lib.ops.device import cuda_status, is_device_array, is_simulator
from nutshell_lib.ops.linear import linear, linear_backward
from nutshell_lib.ops.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from simulator_probes import copies_to_host_refused, kernel_launches_refused

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}"),
]


def gpu(array):
    from numba import cuda

    return cuda.to_device(np.ascontiguousarray(array))


def host(array):
    return array.copy_to_host()


def tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@settings(max_examples=6, deadline=None)
@given(n=st.integers(1, 18), d=st.integers(1, 35), m=st.integers(1, 18),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_tiled_linear_matches_numpy_on_odd_shapes(n, d, m, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w, b = (rng.standard_normal(shape).astype(dtype) for shape in ((n, d), (d, m), (m,)))
    dy = rng.standard_normal((n, m)).astype(dtype)
    x64, w64, dy64 = (a.astype(np.float64) for a in (x, w, dy))  # the oracle, in float64
    y = linear(x, w, b, device="cuda")
    assert type(y) is np.ndarray and y.dtype == dtype
    np.testing.assert_allclose(y, x64 @ w64 + b, **tolerance(dtype))
    dx, dw, db = linear_backward(dy, x, w, device="cuda")
    for name, got, want in (("dx", dx, dy64 @ w64.T), ("dw", dw, x64.T @ dy64), ("db", db, dy64.sum(axis=0))):
        assert type(got) is np.ndarray and got.dtype == dtype, name
        np.testing.assert_allclose(got, want, err_msg=name, **tolerance(dtype))


def ops_cases(rng, dtype):
    """(name, op, NumPy arguments, keyword arguments) for every op, on tiny shapes."""
    x = rng.standard_normal((2, 2, 5, 5)).astype(dtype)
    w = rng.standard_normal((3, 2, 3, 3)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    dy_conv = rng.standard_normal((2, 3, 5, 5)).astype(dtype)
    dy_pool = rng.standard_normal((2, 2, 2, 2)).astype(dtype)
    rows, weights, bias = (rng.standard_normal(s).astype(dtype) for s in ((3, 17), (17, 4), (4,)))
    return [
        ("conv2d", conv2d, (x, w, b), dict(padding=1)),
        ("conv2d_backward", conv2d_backward, (dy_conv, x, w), dict(padding=1)),
        ("max_pool2d", max_pool2d, (x, 2), {}),
        ("max_pool2d_backward", max_pool2d_backward, (dy_pool, x, 2), {}),
        ("avg_pool2d", avg_pool2d, (x, 2), {}),
        ("avg_pool2d_backward", avg_pool2d_backward, (dy_pool, x, 2), {}),
        ("linear", linear, (rows, weights, bias), {}),
        ("linear_backward", linear_backward, (rows @ weights, rows, weights), {}),
    ]


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.skipif(not is_simulator(), reason="counts copies by patching the simulator's arrays")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(8))
def test_device_arrays_in_device_arrays_out_without_a_copy(index, dtype):
    name, op, arguments, keywords = ops_cases(np.random.default_rng(index), dtype)[index]
    expected = as_tuple(op(*arguments, device="cpu", **keywords))
    on_gpu = [gpu(a) if isinstance(a, np.ndarray) else a for a in arguments]
    with copies_to_host_refused():
        results = as_tuple(op(*on_gpu, **keywords))  # device="auto" follows the data to the GPU
    for want, result in zip(expected, results):
        assert is_device_array(result) and result.dtype == dtype, name
        np.testing.assert_allclose(host(result), want, err_msg=name, **tolerance(dtype))


@pytest.mark.parametrize("index", range(8))
def test_gpu_results_equal_the_cpu_and_numpy_in_gives_numpy_out(index):
    name, op, arguments, keywords = ops_cases(np.random.default_rng(index), np.float64)[index]
    expected = as_tuple(op(*arguments, device="cpu", **keywords))
    from_numpy = as_tuple(op(*arguments, device="cuda", **keywords))
    on_gpu = [gpu(a) if isinstance(a, np.ndarray) else a for a in arguments]
    from_device = as_tuple(op(*on_gpu, device="cuda", **keywords))
    for want, numpy_result, device_result in zip(expected, from_numpy, from_device):
        assert type(numpy_result) is np.ndarray, name
        assert is_device_array(device_result) and not isinstance(device_result, np.ndarray), name
        np.testing.assert_allclose(numpy_result, want, rtol=1e-11, atol=1e-11, err_msg=name)
        np.testing.assert_allclose(host(device_result), want, rtol=1e-11, atol=1e-11, err_msg=name)


def test_mixed_arguments_run_on_the_gpu_and_stay_there():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    y = linear(gpu(x), w, np.zeros(2))
    assert is_device_array(y)
    np.testing.assert_allclose(host(y), x @ w, rtol=1e-12)


@pytest.mark.skipif(not is_simulator(), reason="detects launches by patching the simulator's kernels")
@pytest.mark.parametrize("make_x, error, message", [
    (lambda: gpu(np.ones((2, 4))), ValueError, r"x must have 4 dimensions \(N, C, H, W\), got shape \(2, 4\)"),
    (lambda: gpu(np.ones((1, 1, 4, 4), np.int64)), TypeError, r"x is a GPU array of dtype int64 .* float32 or float64"),
    (lambda: gpu(np.ones((1, 1, 4, 8)))[:, :, :, ::2], ValueError,
     r"x is a GPU array of shape \(1, 1, 4, 4\) that is not C-contiguous"),
])
def test_device_arrays_are_validated_before_any_kernel(make_x, error, message):
    x = make_x()
    with kernel_launches_refused():
        for call in (lambda: conv2d(x, np.ones((1, 1, 3, 3))), lambda: max_pool2d(x, 2),
                     lambda: avg_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2)):
            with pytest.raises(error, match=message):
                call()


def test_same_messages_for_device_and_numpy_arrays():
    for x in (np.ones((1, 1, 4, 4)), gpu(np.ones((1, 1, 4, 4)))):
        with pytest.raises(ValueError, match=r"w \(K, C, R, S\) has C = 2 input channels but x \(N, C, H, W\) "
                                             r"has C = 1"):
            conv2d(x, np.ones((1, 2, 3, 3)))
        with pytest.raises(ValueError, match=r"dy must have the forward output's shape"):
            max_pool2d_backward(np.ones((1, 1, 3, 3)), x, 2)
    with pytest.raises(ValueError, match=r"w \(D, M\) has D = 3 rows but x \(N, D\) has D = 2 columns"):
        linear(gpu(np.ones((4, 2))), gpu(np.ones((3, 1))), np.zeros(1))


def test_a_gpu_array_of_the_wrong_dtype_is_not_converted():
    with pytest.raises(TypeError, match=r"w is a GPU array of dtype float64 .* must be float32"):
        conv2d(np.ones((1, 1, 4, 4), np.float32), gpu(np.ones((1, 1, 3, 3))))


def test_cpu_refuses_a_gpu_argument():
    with pytest.raises(ValueError, match=r"device='cpu' was asked for, but x is a GPU array"):
        max_pool2d(gpu(np.ones((1, 1, 4, 4))), 2, device="cpu")
