"""The element-wise activations on device arrays equal their CPU versions (which
test_layers_behaviour.py and test_layers_gradcheck.py check against NumPy, SciPy and central
differences), forward and backward, and keep their results on the GPU.

Runs on a real GPU or under NUMBA_ENABLE_CUDASIM=1 (`make test-cudasim`).
"""
from contextlib import nullcontext

import numpy as np
import pytest

from nutshell_lib.layers import GELU, LeakyReLU, ReLU, SiLU, Sigmoid, Tanh
from nutshell_lib.ops.device import cuda_status, is_device_array, is_simulator
from simulator_probes import copies_to_host_refused, kernel_launches_refused

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}"),
]

ACTIVATIONS = [pytest.param(make_layer, seed, id=name) for seed, (name, make_layer) in enumerate([
    ("Sigmoid", Sigmoid), ("Tanh", Tanh), ("ReLU", ReLU), ("LeakyReLU", lambda: LeakyReLU(0.2)), ("GELU", GELU),
    ("SiLU", SiLU),
])]
# A GPU thread computes a float32 input in float64 from the first float64 constant on, NumPy in
# float32: they differ by float32 rounding, which is absolute where sigmoid(-20) cancels.
TOLERANCE = {np.float32: dict(rtol=1e-6, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def gpu(array):
    from numba import cuda

    return cuda.to_device(array)


def sample(seed, dtype):
    """A small random (rows, cols) input with zeros (where ReLU's derivative is decided) and large
    values of both signs (where the formulas must not overflow)."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 45)))  # up to 132 elements: two blocks
    x = 3 * rng.standard_normal(shape)
    x.flat[::7] = 0.0
    x.flat[3::11] = 25.0 * rng.choice([-1, 1], size=x.flat[3::11].shape)
    return x.astype(dtype), rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_layer, seed", ACTIVATIONS)
def test_gpu_activation_equals_the_cpu_forward_and_backward(make_layer, seed, dtype):
    x, dy = sample(seed + 10 * np.dtype(dtype).itemsize, dtype)
    cpu = make_layer()
    y, dx = cpu.forward(x), cpu.backward(dy)
    layer = make_layer()
    x_gpu, dy_gpu = gpu(x), gpu(dy)
    with copies_to_host_refused() if is_simulator() else nullcontext():
        y_gpu = layer.forward(x_gpu)
        dx_gpu = layer.backward(dy_gpu)
    for name, got, want in (("y", y_gpu, y), ("dx", dx_gpu, dx)):
        assert is_device_array(got) and got.dtype == dtype and got.shape == x.shape, name
        np.testing.assert_allclose(got.copy_to_host(), want, err_msg=name, **TOLERANCE[dtype])


@pytest.mark.skipif(not is_simulator(), reason="detects launches by patching the simulator's kernels")
def test_bad_gpu_input_is_refused_before_any_kernel():
    layer = GELU()
    with kernel_launches_refused():
        with pytest.raises(TypeError, match=r"GELU\(\): x is a GPU array of dtype int64 \(shape \(2, 3\)\)"):
            layer.forward(gpu(np.ones((2, 3), np.int64)))
        with pytest.raises(ValueError, match=r"GELU\(\): x is a GPU array of shape \(2, 2\) that is not C-contiguous"):
            layer.forward(gpu(np.ones((2, 4)))[:, ::2])
    layer.forward(gpu(np.ones((2, 3))))
    with kernel_launches_refused():
        with pytest.raises(TypeError, match=r"GELU\(\): dy is a GPU array of dtype float32 .* must be float64"):
            layer.backward(gpu(np.ones((2, 3), np.float32)))
        with pytest.raises(ValueError, match=r"GELU\(\): backward expected dy of the output's shape \(2, 3\), got \(3, 2\)"):
            layer.backward(gpu(np.ones((3, 2))))
