"""The CUDA conv kernels must agree with the CPU kernels (which test_conv.py checks against oracles).

Runs on a real GPU, or on any machine under NUMBA_ENABLE_CUDASIM=1 (`make test-cudasim`). The
simulator runs every GPU thread as a Python thread, so the shapes here are small.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nutshell_lib.ops.conv import conv2d, conv2d_backward
from nutshell_lib.ops.device import cuda_status

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}"),
]


def tolerance(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


def assert_devices_agree(x, w, b, stride, padding, seed=0):
    y_cpu = conv2d(x, w, b, stride=stride, padding=padding, device="cpu")
    y_gpu = conv2d(x, w, b, stride=stride, padding=padding, device="cuda")
    assert y_gpu.dtype == x.dtype and y_gpu.shape == y_cpu.shape
    np.testing.assert_allclose(y_gpu, y_cpu, err_msg="y", **tolerance(x.dtype))
    dy = np.random.default_rng(seed).standard_normal(y_cpu.shape).astype(x.dtype)
    grads_cpu = conv2d_backward(dy, x, w, stride=stride, padding=padding, device="cpu")
    grads_gpu = conv2d_backward(dy, x, w, stride=stride, padding=padding, device="cuda")
    for name, gpu, cpu in zip(("dx", "dw", "db"), grads_gpu, grads_cpu):
        assert gpu.dtype == x.dtype and gpu.shape == cpu.shape, name
        np.testing.assert_allclose(gpu, cpu, err_msg=name, **tolerance(x.dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", [
    ((2, 3, 5, 6), (2, 3, 3, 3), 1, 1),  # overlapping windows, padding
    ((1, 2, 7, 7), (3, 2, 2, 2), 3, 0),  # stride larger than the kernel: some pixels get no gradient
    ((2, 3, 4, 4), (2, 3, 1, 1), 1, 0),  # 1x1
    ((1, 1, 6, 5), (2, 1, 3, 2), (2, 1), (0, 2)),  # different stride and padding per axis
])
def test_cuda_matches_cpu(dtype, x_shape, w_shape, stride, padding):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    assert_devices_agree(x, w, b, stride, padding)


@settings(max_examples=8, deadline=None)
@given(
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    extra=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    channels=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2)),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_cuda_matches_cpu_random(kernel, stride, padding, extra, channels, dtype, seed):
    batch, in_channels, out_channels = channels
    size = [max(1, k - 2 * p) + e for k, p, e in zip(kernel, padding, extra)]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, in_channels, *size)).astype(dtype)
    w = rng.standard_normal((out_channels, in_channels, *kernel)).astype(dtype)
    assert_devices_agree(x, w, None, stride, padding, seed)


def test_cuda_accepts_non_contiguous_input():
    rng = np.random.default_rng(4)
    x = np.asfortranarray(rng.standard_normal((2, 2, 5, 5)))
    w = rng.standard_normal((2, 2, 3, 3))[:, :, ::-1, :]
    np.testing.assert_allclose(conv2d(x, w, device="cuda"), conv2d(x, w, device="cpu"), rtol=1e-11)


def test_cuda_backward_without_input_grad():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    dy = rng.standard_normal((1, 3, 3, 3))
    dx, dw, db = conv2d_backward(dy, x, w, device="cuda", input_grad=False)
    _, dw_cpu, db_cpu = conv2d_backward(dy, x, w, device="cpu")
    assert dx is None
    np.testing.assert_allclose(dw, dw_cpu, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, db_cpu, rtol=1e-12, atol=1e-12)
