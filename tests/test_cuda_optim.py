"""The optimizers' fused GPU updates equal their CPU updates (which test_optim.py checks against
PyTorch's formulas written out by hand), step after step, on small random parameters.

Runs on a real GPU or under NUMBA_ENABLE_CUDASIM=1 (`make test-cudasim`).
"""
import numpy as np
import pytest

from nutshell_lib.ops.device import cuda_status, is_device_array, is_simulator
from nutshell_lib.optim import SGD, Adam, AdamW
from simulator_probes import kernel_launches_refused

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_status()[0], reason=f"CUDA not usable: {cuda_status()[1]}"),
]

TOLERANCE = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-12, atol=1e-14)}


class Parameters:
    """A model reduced to what an optimizer sees: params and grads by name."""

    def __init__(self, params):
        self.params = params
        self.grads = {name: np.zeros_like(value) for name, value in params.items()}


def on_gpu(arrays):
    from numba import cuda

    return {name: cuda.to_device(array) for name, array in arrays.items()}


def random_parameters(rng, dtype):
    shapes = {"w": tuple(rng.integers(1, 5, size=2)), "b": (int(rng.integers(1, 40)),)}  # b crosses a block
    return {name: rng.standard_normal(shape).astype(dtype) for name, shape in shapes.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_optimizer", [
    lambda model: Adam(model, lr=0.01),
    lambda model: Adam(model, lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1),
    lambda model: AdamW(model, lr=0.05, weight_decay=0.3),
    lambda model: SGD(model, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
], ids=["adam", "adam-decay-betas-eps", "adamw", "sgd-nesterov-decay"])
def test_gpu_update_equals_the_cpu_update(make_optimizer, dtype):
    rng = np.random.default_rng(np.dtype(dtype).itemsize)
    start = random_parameters(rng, dtype)
    cpu = Parameters({name: value.copy() for name, value in start.items()})
    gpu = Parameters(on_gpu(start))
    gpu.grads = on_gpu(gpu.grads)
    cpu_optimizer, gpu_optimizer = make_optimizer(cpu), make_optimizer(gpu)
    for _ in range(3):
        grads = {name: rng.standard_normal(value.shape).astype(dtype) for name, value in start.items()}
        cpu.grads, gpu.grads = grads, on_gpu(grads)
        cpu_optimizer.step()
        gpu_optimizer.step()
    for name, value in cpu.params.items():
        assert is_device_array(gpu.params[name]), name
        np.testing.assert_allclose(gpu.params[name].copy_to_host(), value, err_msg=name, **TOLERANCE[dtype])
        assert not np.allclose(value, start[name])  # the steps moved it
        for key, state in cpu_optimizer.state[name].items():
            gpu_state = gpu_optimizer.state[name][key]
            got = gpu_state.copy_to_host() if is_device_array(gpu_state) else gpu_state
            np.testing.assert_allclose(got, state, err_msg=f"{name} {key}", **TOLERANCE[dtype])


@pytest.mark.skipif(not is_simulator(), reason="detects launches by patching the simulator's kernels")
@pytest.mark.parametrize("optimizer_class", [Adam, SGD])
def test_a_gradient_that_does_not_match_its_gpu_parameter_is_refused_before_any_kernel(optimizer_class):
    from numba import cuda

    model = Parameters(on_gpu({"w": np.ones((2, 3), np.float32)}))
    optimizer = optimizer_class(model, lr=0.1)
    name = optimizer_class.__name__
    cases = [
        (cuda.to_device(np.ones((2, 3))), TypeError, rf"{name}: grad is a GPU array of dtype float64 .* must be float32"),
        (cuda.to_device(np.ones((3, 2), np.float32)), ValueError,
         rf"{name}: grad must have the parameter's shape \(2, 3\), got \(3, 2\)"),
        (np.ones(6, np.float32), ValueError, rf"{name}: grad must have 2 dimensions \(like the parameter, \(2, 3\)\)"),
        ("0.5", TypeError, rf"{name}: grad must be a numeric array"),
    ]
    with kernel_launches_refused():
        for grad, error, message in cases:
            model.grads["w"] = grad
            with pytest.raises(error, match=message):
                optimizer.step()
