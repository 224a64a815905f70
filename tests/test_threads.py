"""ops.threads (run_in_blocks, the BLAS limit): every block once, results in order, errors
surface, helpers really work, and the BLAS thread count is put back."""
import threading

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_info

from nutshell_lib.ops import threads
from nutshell_lib.ops.threads import run_blas_in_blocks, run_in_blocks, single_threaded_blas

pytestmark = pytest.mark.usefixtures("threads_even_for_small_arrays")


@pytest.fixture
def two_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("this machine gives Numba a single thread")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    yield
    numba.set_num_threads(before)


@pytest.mark.parametrize("plane_count", [1, 2, 3, 7, 8, 9, 100])
def test_blocks_cover_every_plane_once_in_order(two_threads, plane_count):
    seen = np.zeros(plane_count, int)

    def kernel(first, last, marks):
        marks[first:last] += 1
        return first, last

    blocks = run_in_blocks(kernel, plane_count, 10**9, seen)
    np.testing.assert_array_equal(seen, 1)
    assert blocks[0][0] == 0 and blocks[-1][1] == plane_count
    assert all(previous[1] == block[0] for previous, block in zip(blocks, blocks[1:]))
    assert len(blocks) == min(plane_count, 2 * threads.BLOCKS_PER_THREAD)


def test_one_thread_means_one_call(two_threads, monkeypatch):
    monkeypatch.setattr(threads, "ELEMENTS_WORTH_A_THREAD", 10**9)
    assert run_in_blocks(lambda first, last: (first, last), 50, 1000) == [(0, 50)]


def test_helper_threads_take_blocks():
    """Each thread's first block waits for the other thread's first block: without a working
    helper, or if one thread took every block, the barrier would time out."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("this machine gives Numba a single thread")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    both_running = threading.Barrier(2, timeout=10)
    runners = []

    def kernel(first, last):
        if threading.get_ident() not in runners:
            runners.append(threading.get_ident())
            both_running.wait()
        else:
            runners.append(threading.get_ident())

    try:
        run_in_blocks(kernel, 8, 10**9)
    finally:
        numba.set_num_threads(before)
    assert len(set(runners)) == 2 and len(runners) == 8


def test_errors_in_a_block_reach_the_caller(two_threads):
    def kernel(first, last):
        if first > 0:
            raise ZeroDivisionError(f"block {first}")

    with pytest.raises(ZeroDivisionError, match="block"):
        run_in_blocks(kernel, 16, 10**9)


def blas_threads():
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def test_single_threaded_blas_puts_the_thread_count_back():
    before = blas_threads()
    with single_threaded_blas():
        assert set(blas_threads()) == {1}
        run_blas_in_blocks(lambda first, last: np.ones((64, 64)) @ np.ones((64, 64)), 4, 10**9)
    assert blas_threads() == before
    with pytest.raises(RuntimeError):
        with single_threaded_blas():
            raise RuntimeError("the count comes back after an error too")
    assert blas_threads() == before


def test_nested_blocks_restore_the_outer_count():
    before = blas_threads()
    with single_threaded_blas():
        with single_threaded_blas():
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}
    assert blas_threads() == before
