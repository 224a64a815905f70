"""``nutshell doctor``: what a learner or instructor needs to know when something is slow or broken."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def kernel_cache_dir() -> Path:
    """Directory where Numba writes the compiled kernels of this package."""
    from .kernels.jit import cache_probe

    return Path(cache_probe._cache._cache_path)


def blas_summary() -> str:
    """The BLAS libraries NumPy uses, with their versions and thread counts."""
    from threadpoolctl import threadpool_info

    libraries = [library for library in threadpool_info() if library["user_api"] == "blas"]
    if not libraries:
        return "none that threadpoolctl can see"
    described = "; ".join(
        f"{library['internal_api']} {library.get('version') or ''} with {library['num_threads']} threads"
        for library in libraries
    )
    return f"{described} (the kit's conv and dense ops give it one thread per Numba thread)"


def report() -> list[tuple[str, str]]:
    """(label, value) rows describing this machine's set-up."""
    import numba
    import numpy

    from .kernels.jit import cache_probe
    from .kernels.shared_cache import is_writable
    from .ops.device import cuda_status

    cache_probe(1)  # run one parallel kernel so Numba has picked its threading layer
    usable, reason = cuda_status()
    cache_dir = kernel_cache_dir()
    return [
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("NumPy", numpy.__version__),
        ("Numba", numba.__version__),
        ("CPU cores", str(os.cpu_count())),
        ("Numba threads", f"{numba.get_num_threads()} (set NUMBA_NUM_THREADS to change)"),
        ("Threading layer", numba.threading_layer()),
        ("BLAS", blas_summary()),
        ("CUDA", ("usable: " if usable else "not usable: ") + reason),
        ("Numba cache", f"{cache_dir} ({'writable' if is_writable(cache_dir) else 'NOT writable: set NUMBA_CACHE_DIR'})"),
    ]


def main() -> int:
    rows = report()
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0
