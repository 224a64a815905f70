"""``fit`` trains a model on the GPU (after ``model.to("cuda")``) from NumPy data, with the same
loss history as on the CPU.

A LeNet-shaped network with every layer kind the GPU runs (convolution, ReLU, Tanh, padded max
pooling, average pooling, flatten, dense, GELU) and Adam is built twice from one seed, trained for
two epochs on each device and compared. Runs on a real GPU or under NUMBA_ENABLE_CUDASIM=1 (tiny
shapes: the simulator runs every GPU thread in Python).
"""
import numpy as np
import pytest

from nutshell_lib.layers import GELU, AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Tanh
from nutshell_lib.losses import softmax_cross_entropy
from nutshell_lib.ops.device import cuda_status, is_device_array, is_simulator
from nutshell_lib.optim import SGD, Adam, clip_grad_norm
from nutshell_lib.training import fit, predict

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}"),
]

TOLERANCE = dict(rtol=2e-5, atol=1e-6)  # float32, after a few steps of Adam


def tiny_lenet(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([
        Conv2D(1, 2, 3, rng=rng, input_grad=False), ReLU(), MaxPool2D(3, stride=2, padding=1),  # 7x7 -> 5x5 -> 3x3
        Conv2D(2, 3, 2, rng=rng), Tanh(), AvgPool2D(1), Flatten(),                            # -> 2x2
        Dense(12, 5, rng=rng), GELU(), Dense(5, 3, rng=rng),
    ])


def data(seed, count):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((count, 1, 7, 7)), rng.integers(0, 3, count)  # float64 X, as learners pass it


def train(model, **options):
    X, y = data(1, 3)  # batches of 2 and 1: four steps in all
    return fit(model, softmax_cross_entropy, Adam(model, lr=0.01), X, y, epochs=2, batch_size=2,
               validation=data(2, 2), progress=False, **options)


def test_fit_on_the_gpu_gives_the_cpus_history_and_parameters():
    cpu, gpu = tiny_lenet(), tiny_lenet().to("cuda")
    cpu_history, gpu_history = train(cpu), train(gpu)
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        got, want = getattr(gpu_history, name), getattr(cpu_history, name)
        assert len(got) == 2 and all(isinstance(value, float) for value in got), name
        np.testing.assert_allclose(got, want, err_msg=name, **TOLERANCE)
    assert cpu_history.loss[1] != cpu_history.loss[0]
    for name, param in cpu.params.items():
        assert is_device_array(gpu.params[name]), name
        np.testing.assert_allclose(gpu.params[name].copy_to_host(), param, err_msg=name, **TOLERANCE)
    X_val, _ = data(2, 2)
    on_host = predict(gpu, X_val)
    assert type(on_host) is np.ndarray and on_host.shape == (2, 3)
    np.testing.assert_allclose(on_host, predict(cpu, X_val), **TOLERANCE)


@pytest.mark.skipif(not is_simulator(), reason="counts copies by patching the simulator")
def test_fit_copies_each_batch_to_the_gpu_once(monkeypatch):
    from numba import cuda

    copied = []
    to_device = cuda.to_device

    def counted(array, *args, **kwargs):
        copied.append((np.shape(array), np.asarray(array).dtype))
        return to_device(array, *args, **kwargs)

    model = Sequential([Flatten(), Dense(4, 3, rng=0)]).to("cuda")
    monkeypatch.setattr(cuda, "to_device", counted)
    X, y = np.random.default_rng(1).standard_normal((3, 1, 2, 2)), np.array([0, 2, 1])
    history = fit(model, softmax_cross_entropy, SGD(model, lr=0.1), X, y, epochs=1, batch_size=2, progress=False)
    images = [shape for shape, dtype in copied if len(shape) == 4]
    assert images == [(2, 1, 2, 2), (1, 1, 2, 2)]  # one copy per batch, in the parameters' float32
    assert all(dtype == np.float32 for shape, dtype in copied if len(shape) == 4)
    # Besides: only the labels, which the loss checks on the host.
    assert [shape for shape, _ in copied if len(shape) != 4] == [(2,), (1,)]
    assert len(history.loss) == 1


def test_gradient_clipping_on_the_gpu_is_refused_before_training():
    model = tiny_lenet().to("cuda")
    before = model.params["0.W"].copy_to_host()
    with pytest.raises(ValueError, match=r"fit: max_grad_norm \(gradient clipping\) runs on the CPU only so far"):
        train(model, max_grad_norm=1.0)
    np.testing.assert_array_equal(model.params["0.W"].copy_to_host(), before)
    with pytest.raises(TypeError, match=r"clip_grad_norm runs on the CPU only so far; the gradients 0.W, 0.b, "):
        clip_grad_norm(model, 1.0)


def test_early_stopping_puts_the_best_gpu_weights_back_as_on_the_cpu():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((4, 3)), rng.integers(0, 2, 4)
    models = [Sequential([Dense(3, 2, rng=4)]), Sequential([Dense(3, 2, rng=4)]).to("cuda")]
    histories = [fit(model, softmax_cross_entropy, SGD(model, lr=30.0), X, y, epochs=4, batch_size=4,
                     early_stopping=1, progress=False) for model in models]  # a rate that overshoots
    cpu, gpu = histories
    assert cpu.stopped_early and cpu.best_epoch is not None and cpu.best_epoch < len(cpu.loss) - 1
    assert (gpu.stopped_early, gpu.best_epoch) == (cpu.stopped_early, cpu.best_epoch)
    np.testing.assert_allclose(gpu.loss, cpu.loss, **TOLERANCE)
    for name, param in models[0].params.items():
        assert is_device_array(models[1].params[name]), name
        np.testing.assert_allclose(models[1].params[name].copy_to_host(), param, err_msg=name, **TOLERANCE)
