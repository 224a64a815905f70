"""The pooling layers on device arrays, padding included, agree bit for bit with the same layers
on NumPy arrays (which test_layers_behaviour.py and test_pool.py check against loops).

Runs on a real GPU or under NUMBA_ENABLE_CUDASIM=1 (`make test-cudasim`): small shapes.
"""
from contextlib import nullcontext

import numpy as np
import pytest

from nutshell_lib.layers import AvgPool2D, MaxPool2D
from nutshell_lib.ops.device import cuda_status, is_device_array, is_simulator
from simulator_probes import copies_to_host_refused, kernel_launches_refused

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}"),
]


def gpu(array):
    from numba import cuda

    return cuda.to_device(array)


@pytest.mark.parametrize("make_layer, seed", [
    (lambda: MaxPool2D(3, stride=1, padding=1), 0),         # GoogLeNet's pool branch: keeps the size
    (lambda: MaxPool2D((3, 2), stride=(2, 1), padding=(1, 1)), 1),
    (lambda: MaxPool2D(2, padding=(1, 0)), 2),               # odd height, a dropped column
    (lambda: MaxPool2D(2, stride=1), 3),
    (lambda: AvgPool2D((2, 3), stride=(1, 2)), 4),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gpu_pooling_layer_equals_the_cpu_bit_for_bit(make_layer, seed, dtype):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(3, 7)), int(rng.integers(3, 7)))
    x = rng.integers(-3, 0, shape).astype(dtype)  # all negative: a padded 0 would win; ties everywhere
    x.flat[::5] += rng.standard_normal(x.flat[::5].shape).astype(dtype)
    cpu = make_layer()
    y = cpu.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = cpu.backward(dy)
    layer = make_layer()
    with copies_to_host_refused() if is_simulator() else nullcontext():
        y_gpu = layer.forward(gpu(x))
        dx_gpu = layer.backward(gpu(dy))
    for name, got, want in (("y", y_gpu, y), ("dx", dx_gpu, dx)):
        assert is_device_array(got) and got.dtype == dtype and got.shape == want.shape, name
        np.testing.assert_array_equal(got.copy_to_host(), want, err_msg=name)


@pytest.mark.skipif(not is_simulator(), reason="detects launches by patching the simulator's kernels")
def test_bad_gpu_input_is_refused_before_the_padding_kernel():
    layer = MaxPool2D(3, stride=1, padding=1)
    with kernel_launches_refused():
        with pytest.raises(TypeError, match=r"MaxPool2D\(.*padding=\(1, 1\)\): x is a GPU array of dtype int64"):
            layer.forward(gpu(np.ones((1, 1, 4, 4), np.int64)))
        with pytest.raises(ValueError, match=r"x is a GPU array of shape \(1, 1, 4, 4\) that is not C-contiguous"):
            layer.forward(gpu(np.ones((1, 1, 4, 8)))[:, :, :, ::2])
        with pytest.raises(ValueError, match=r"device='cpu' was asked for, but x is a GPU array"):
            MaxPool2D(3, stride=1, padding=1, device="cpu").forward(gpu(np.ones((1, 1, 4, 4))))
