"""Device selection, the `nutshell` command, and the shared argument checks."""
import subprocess
import sys

import numpy as np
import pytest

from nutshell_lib.cli import main as nutshell
from nutshell_lib.ops import device as device_module
from nutshell_lib.ops.device import resolve_device
from nutshell_lib.ops.validate import as_float_array, output_size, pair


def test_cpu_is_always_available():
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("bad", ["gpu", "CUDA", "", None, 0])
def test_unknown_device_is_refused(bad):
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device(bad)


def test_cuda_without_gpu_says_why(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_status", lambda: (False, "no usable NVIDIA GPU or driver was found"))
    with pytest.raises(RuntimeError, match="device='cuda'.*no usable NVIDIA GPU"):
        resolve_device("cuda")
    assert resolve_device("auto") == "cpu"


def test_auto_never_picks_the_simulator(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_status", lambda: (True, "simulator"))
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cuda") == "cuda"


class ForeignGpuArray:
    """Stands for a CuPy or PyTorch CUDA array: all the rule looks at is the interface."""
    __cuda_array_interface__ = {"shape": (2,), "typestr": "<f4", "data": (0, False), "version": 3}


def test_auto_keeps_numpy_input_on_the_cpu_even_with_a_real_gpu(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_status", lambda: (True, "CUDA GPU found"))
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("auto", dict(x=np.ones(2), b=None)) == "cpu"
    assert resolve_device("auto", dict(x=np.ones(2), w=ForeignGpuArray())) == "cuda"
    assert resolve_device("cuda", dict(x=np.ones(2))) == "cuda"


def test_cpu_refuses_gpu_arrays_by_name():
    with pytest.raises(ValueError, match=r"device='cpu' was asked for, but w is a GPU array"):
        resolve_device("cpu", dict(x=np.ones(2), w=ForeignGpuArray()))


def test_as_float_array_converts_layout_and_keeps_float32():
    fortran = np.asfortranarray(np.ones((2, 3, 4, 5), np.float32))
    out = as_float_array("x", fortran, 4, "(N, C, H, W)")
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert as_float_array("x", np.ones((1, 1, 2, 2), int), 4, "(N, C, H, W)").dtype == np.float64


@pytest.mark.parametrize(
    "value, error, message",
    [
        (np.ones((2, 3)), ValueError, r"x must have 4 dimensions \(N, C, H, W\), got shape \(2, 3\)"),
        (np.array([["a"]]), TypeError, "x must hold real numbers"),
        (np.ones((1, 1, 1, 1), complex), TypeError, "complex"),
        ("image", TypeError, "numeric array"),
    ],
)
def test_as_float_array_errors_name_the_argument(value, error, message):
    with pytest.raises(error, match=message):
        as_float_array("x", value, 4, "(N, C, H, W)")


def test_pair():
    assert pair("stride", 2, 1) == (2, 2)
    assert pair("padding", (0, 3), 0) == (0, 3)
    with pytest.raises(ValueError, match="stride must be positive, got 0"):
        pair("stride", 0, 1)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        pair("padding", -1, 0)
    for bad in (1.5, True, (1, 2, 3), "2"):
        with pytest.raises(TypeError, match="stride must be an int or a pair"):
            pair("stride", bad, 1)


@pytest.mark.parametrize("length, window, stride, padding, expected", [(32, 5, 1, 0, 28), (28, 2, 2, 0, 14), (7, 3, 2, 1, 4), (5, 5, 3, 0, 1)])
def test_output_size(length, window, stride, padding, expected):
    assert output_size(length, window, stride, padding) == expected


def test_doctor_reports_versions_threads_cuda_and_cache(capsys):
    assert nutshell(["doctor"]) == 0
    out = capsys.readouterr().out
    for label in ("Python", "NumPy", "Numba", "Numba threads", "Threading layer", "BLAS", "CUDA", "Numba cache"):
        assert label in out
    assert "threads (the kit's conv and dense ops" in out
    assert "writable" in out


def test_module_entry_point_runs_warm():
    result = subprocess.run([sys.executable, "-m", "nutshell_lib", "warm"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Numba kernels ready" in result.stdout


def test_warming_in_processes_says_which_group_failed_and_why(monkeypatch):
    """Each group compiles in a child process of its own; one whose child fails is named, with the
    child's error output (here a group the child's own copy of the module does not know)."""
    from nutshell_lib import warmup

    monkeypatch.setitem(warmup.KERNEL_GROUPS, "no-such-kernels", lambda: None)
    with pytest.raises(RuntimeError, match=r"(?s)compiling the no-such-kernels kernels failed \(exit status 1\).*KeyError"):
        warmup.compile_all_kernels(in_child_processes=True)


def test_moving_a_model_to_cuda_without_a_gpu_says_why(monkeypatch):
    from nutshell_lib.layers import Dense, Sequential

    monkeypatch.setattr(device_module, "cuda_status", lambda: (False, "no usable NVIDIA GPU or driver was found"))
    model = Sequential([Dense(2, 3, rng=0)])
    with pytest.raises(RuntimeError, match="device='cuda'.*no usable NVIDIA GPU"):
        model.to("cuda")
    assert type(model.params["0.W"]) is np.ndarray
