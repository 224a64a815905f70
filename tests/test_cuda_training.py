"""A model placed on the GPU with ``model.to("cuda")`` trains exactly as on the CPU.

One LeNet-shaped network (conv, ReLU, max pooling, flatten, dense, softmax cross-entropy, SGD with
momentum and weight decay) is built twice from the same seed; one copy trains on NumPy arrays,
the other on device arrays. Runs on a real GPU or under NUMBA_ENABLE_CUDASIM=1 (tiny shapes).
"""
import numpy as np
import pytest

from nutshell_lib.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from nutshell_lib.losses import softmax_cross_entropy
from nutshell_lib.ops.device import cuda_status, is_device_array, is_simulator
from nutshell_lib.optim import SGD

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}"),
]


def lenet(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([
        Conv2D(1, 2, 3, rng=rng, dtype=dtype, input_grad=False), ReLU(), MaxPool2D(2),  # 12x12 -> 10x10 -> 5x5
        Conv2D(2, 3, 3, rng=rng, dtype=dtype), ReLU(), MaxPool2D(1), Flatten(),          # -> 3x3
        Dense(27, 5, rng=rng, dtype=dtype), ReLU(), Dense(5, 3, rng=rng, dtype=dtype),
    ])


def train(model, images, labels, steps):
    optimizer = SGD(model, lr=0.1, momentum=0.9, weight_decay=1e-3)
    losses = []
    for _ in range(steps):
        loss, dlogits = softmax_cross_entropy(model.forward(images), labels)
        model.backward(dlogits)
        optimizer.step()
        losses.append(loss)
    return losses


def on_host(array):
    return array.copy_to_host() if is_device_array(array) else array


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_a_training_step_on_the_gpu_equals_the_cpus(dtype, tolerance):
    from numba import cuda

    rng = np.random.default_rng(1)
    images = rng.standard_normal((2, 1, 12, 12)).astype(dtype)
    labels = np.array([0, 2])
    cpu, gpu = lenet(dtype), lenet(dtype).to("cuda")
    assert all(is_device_array(p) for p in gpu.params.values())
    cpu_losses = train(cpu, images, labels, steps=2)
    gpu_losses = train(gpu, cuda.to_device(images), labels, steps=2)
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=tolerance)
    for name, param in cpu.params.items():
        assert is_device_array(gpu.params[name]), name  # updated where it lives
        np.testing.assert_allclose(on_host(gpu.params[name]), param, rtol=tolerance, atol=tolerance, err_msg=name)
    assert not np.allclose(cpu.params["0.W"], lenet(dtype).params["0.W"])  # the steps did change something


@pytest.mark.skipif(not is_simulator(), reason="counts copies by patching the simulator's arrays")
def test_a_training_step_copies_only_the_loss_to_the_host(monkeypatch):
    from numba import cuda
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    model = lenet(np.float32).to("cuda")
    images = cuda.to_device(np.random.default_rng(2).standard_normal((1, 1, 12, 12)).astype(np.float32))
    copies = []
    copy_to_host = FakeCUDAArray.copy_to_host

    def counted_copy(self, *args, **kwargs):
        copies.append(tuple(self.shape))
        return copy_to_host(self, *args, **kwargs)

    monkeypatch.setattr(FakeCUDAArray, "copy_to_host", counted_copy)
    train(model, images, np.array([1]), steps=1)
    assert copies == [(1,)]  # the per-row losses, summed on the host into one number


def test_to_cpu_brings_the_parameters_back():
    model = lenet(np.float64)
    before = {name: param.copy() for name, param in model.params.items()}
    model.to("cuda").to("cpu")
    for name, param in model.params.items():
        assert type(param) is np.ndarray
        np.testing.assert_array_equal(param, before[name], err_msg=name)


def test_what_the_gpu_does_not_run_yet_says_so():
    from numba import cuda

    with pytest.raises(ValueError, match=r"on the GPU, labels must be \(1,\) integer classes"):
        softmax_cross_entropy(cuda.to_device(np.ones((1, 3))), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"to\(\) takes 'cpu' or 'cuda', got 'gpu'"):
        ReLU().to("gpu")
