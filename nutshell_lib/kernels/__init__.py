"""Numba kernels: plain Python loops compiled with ``cpu_kernel`` or Numba's CUDA target.

Kernels do no validation; ``nutshell_lib.ops`` checks every argument before calling them.
Set ``NUMBA_DISABLE_JIT=1`` to run the CPU kernels as ordinary Python and step through them.
"""
