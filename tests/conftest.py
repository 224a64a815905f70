import pytest

from nutshell_lib.kernels import plane_threads


@pytest.fixture(scope="module")
def threads_even_for_small_arrays():
    """Split even tiny test arrays among threads, so the tests cover the multi-threaded path."""
    default = plane_threads.ELEMENTS_PER_THREAD
    plane_threads.ELEMENTS_PER_THREAD = 1
    yield
    plane_threads.ELEMENTS_PER_THREAD = default
