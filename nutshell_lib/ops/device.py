"""Choosing where an op runs: ``"cpu"``, ``"cuda"`` or ``"auto"``, and where its results live.

The rule: an op runs where its data is, and its results stay there.

- ``"auto"`` runs on the GPU when any array argument is a device array (anything with
  ``__cuda_array_interface__``, such as ``numba.cuda.to_device(x)``), else on the CPU. NumPy input
  stays on the CPU even when a GPU is present: copying a course-sized batch to the GPU and back
  costs more than the CPU kernels take, so ``"auto"`` never makes a CPU workload slower.
- ``"cuda"`` runs on the GPU; NumPy arguments are copied there and the results copied back.
- ``"cpu"`` runs on the CPU and refuses device arrays (copy them with ``.copy_to_host()``).

With any device array among the arguments, every result is a device array and nothing is copied
back: a network whose data and parameters are on the GPU keeps them there from layer to layer.
The CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) counts as a GPU for ``"cuda"``; it is a debugging
aid that runs kernels thread by thread in Python, thousands of times slower than the CPU kernels.
"""
from __future__ import annotations

import functools
import os
import sys

DEVICES = ("auto", "cpu", "cuda")


def is_simulator() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


@functools.lru_cache(maxsize=1)
def cuda_status() -> tuple[bool, str]:
    """Whether ``device="cuda"`` can run here, and a sentence that says why (not).

    Returns
    -------
    (usable, reason): ``usable`` is True for a real GPU or the simulator; ``reason`` is
    written for a learner, e.g. which package to install.
    """
    try:
        from numba import cuda
    except ImportError as exc:  # numba without any CUDA target
        return False, f"numba's CUDA target could not be imported ({exc}); install it with `pip install numba-cuda[cu12]`"
    if is_simulator():
        return True, "the CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): kernels run in Python, slowly"
    try:
        if cuda.is_available():
            name = cuda.get_current_device().name
            if isinstance(name, bytes):
                name = name.decode()
            return True, f"CUDA GPU found: {name}"
    except Exception as exc:  # a broken driver must not crash device selection
        return False, f"CUDA driver error: {exc}"
    reason = "no usable NVIDIA GPU or driver was found"
    try:
        error = cuda.cuda_error()
        if error:
            reason += f" ({' '.join(str(error).split())})"  # the driver's message spans several lines
    except Exception:  # cuda_error is informative only
        pass
    return False, reason


def is_device_array(value) -> bool:
    """Whether ``value`` is an array in GPU memory (Numba's, CuPy's, PyTorch's CUDA tensors...).

    Needs no import of ``numba.cuda``: a simulator array (which lacks ``__cuda_array_interface__``)
    can only exist once ``numba.cuda`` is imported, and is recognised by Numba's own marker.
    """
    if hasattr(value, "__cuda_array_interface__"):
        return True
    return "numba.cuda" in sys.modules and getattr(value, "__cuda_ndarray__", False) is True


def resolve_device(device, arrays=()) -> str:
    """Map the ``device`` argument to ``"cpu"`` or ``"cuda"`` for an op on ``arrays`` (its array
    arguments, named: a dict name -> value, None allowed), with a clear error otherwise.

    ``"auto"`` is ``"cuda"`` exactly when one of the arrays is a device array (see the module's rule).
    """
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    on_gpu = [name for name, value in dict(arrays).items() if is_device_array(value)]
    if device == "cpu":
        if on_gpu:
            raise ValueError(f"device='cpu' was asked for, but {', '.join(on_gpu)} is a GPU array; "
                             "copy it with .copy_to_host() or use device='cuda' or 'auto'")
        return "cpu"
    if device == "auto" and not on_gpu:
        return "cpu"
    usable, reason = cuda_status()
    if not usable:
        raise RuntimeError(f"device='cuda' was asked for, but CUDA is not usable here: {reason}. Use device='cpu' or 'auto'.")
    return "cuda"


def to_gpu(array):
    """``array`` on the GPU as a Numba device array: a Numba device array as it is, another
    device array wrapped without a copy, a NumPy array copied there."""
    from numba import cuda

    if getattr(array, "__cuda_ndarray__", False) is True:
        return array
    if hasattr(array, "__cuda_array_interface__"):
        return cuda.as_cuda_array(array)
    return cuda.to_device(array)


def results(inputs, *arrays):
    """An op's GPU results ``arrays`` as it returns them: device arrays when one of ``inputs`` (its
    array arguments, as for ``resolve_device``) was on the GPU, else copied to NumPy arrays.
    None stays None (a gradient that was not asked for)."""
    if any(is_device_array(value) for value in dict(inputs).values()):
        return arrays if len(arrays) > 1 else arrays[0]
    host = tuple(None if array is None else array.copy_to_host() for array in arrays)
    return host if len(host) > 1 else host[0]
