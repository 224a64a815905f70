"""The one way the kit launches CUDA kernels: threads per block, the grid, and Numba's small-grid warning.

Every elementwise-style kernel runs one thread per item (an output element, or an (image, weight)
pair) and returns early past the last item, so a launch needs only the item count. Tiled kernels
(``cuda_matmul``) run one block per tile of their output instead, with ``launch_tiles``.

Numba warns "Grid size ... will likely result in GPU under-utilization" for grids of fewer than 128
blocks. A course network's small layers legitimately make such grids, the warning would only alarm
learners, and the test configuration turns performance warnings into errors; so every launch
goes through ``_small_grids_allowed``, which silences that warning and nothing else.

The kernel modules import ``numba.cuda``; the ops import them only when a GPU is used.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

THREADS_PER_BLOCK = 128


def blocks_for(item_count: int, threads: int = THREADS_PER_BLOCK) -> int:
    """Blocks of ``threads`` threads that cover ``item_count`` items (at least one block)."""
    return max(1, (item_count + threads - 1) // threads)


@contextmanager
def _small_grids_allowed():
    with warnings.catch_warnings():
        # By message, not class: numba and numba-cuda each define their own NumbaPerformanceWarning.
        warnings.filterwarnings("ignore", message="Grid size", category=Warning)
        yield


def launch(kernel, item_count: int, *args) -> None:
    """Run ``kernel(*args)`` with one thread per item; nothing to do for ``item_count`` 0."""
    if item_count == 0:
        return
    with _small_grids_allowed():
        kernel[blocks_for(item_count), THREADS_PER_BLOCK](*args)


def launch_tiles(kernel, rows: int, cols: int, tile: int, *args) -> None:
    """Run ``kernel(*args)`` with one (tile, tile) block of threads per tile of a (rows, cols) output.

    The grid's x axis runs along the columns (the output's contiguous axis), y along the rows.
    """
    if rows == 0 or cols == 0:
        return
    grid = (blocks_for(cols, tile), blocks_for(rows, tile))
    with _small_grids_allowed():
        kernel[grid, (tile, tile)](*args)
