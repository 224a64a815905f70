"""Probes for tests under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1): patch its arrays and
kernels to see what an op copies to the host and whether it launched a kernel."""
from contextlib import contextmanager


@contextmanager
def copies_to_host_refused():
    """Inside, any copy of a (simulator) device array to the host fails."""
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    def refuse(self, *args, **kwargs):
        raise AssertionError("an op copied a device array to the host")

    original = FakeCUDAArray.copy_to_host
    FakeCUDAArray.copy_to_host = refuse
    try:
        yield
    finally:
        FakeCUDAArray.copy_to_host = original


@contextmanager
def kernel_launches_refused():
    """Inside, launching any (simulator) kernel fails: validation must come first."""
    from numba.cuda.simulator.kernel import FakeCUDAKernel

    def refuse(self, configuration):
        raise AssertionError("a kernel was launched")

    original = FakeCUDAKernel.__getitem__
    FakeCUDAKernel.__getitem__ = refuse
    try:
        yield
    finally:
        FakeCUDAKernel.__getitem__ = original
