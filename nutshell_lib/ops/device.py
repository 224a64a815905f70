"""Choosing where an op runs: ``"cpu"``, ``"cuda"`` or ``"auto"``.

``"auto"`` means a real CUDA GPU when one is usable, else the CPU. The CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) is never chosen by ``"auto"``: it is a debugging aid that runs
kernels thread by thread in Python, thousands of times slower than the CPU kernels.
"""
from __future__ import annotations

import functools
import os

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


def resolve_device(device) -> str:
    """Map the ``device`` argument to ``"cpu"`` or ``"cuda"``, with a clear error otherwise."""
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cpu":
        return "cpu"
    usable, reason = cuda_status()
    if device == "cuda":
        if not usable:
            raise RuntimeError(f"device='cuda' was asked for, but CUDA is not usable here: {reason}. Use device='cpu' or 'auto'.")
        return "cuda"
    return "cuda" if usable and not is_simulator() else "cpu"
