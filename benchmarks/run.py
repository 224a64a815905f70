"""`make bench`: every benchmark of the kit, one after another, printed as tables."""
import importlib
import platform
import os

import numba
import numpy

SUITES = ["benchmarks.jit_cost", "benchmarks.bench_conv", "benchmarks.bench_conv_paths", "benchmarks.bench_pool",
          "benchmarks.bench_pool_backward", "benchmarks.bench_lenet", "benchmarks.bench_signs",
          "benchmarks.bench_lstm_recall", "benchmarks.bench_transformer_recall", "benchmarks.bench_grading"]


def main() -> None:
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}")
    print(f"Python {platform.python_version()}, NumPy {numpy.__version__}, Numba {numba.__version__}, "
          f"{numba.get_num_threads()} Numba threads")
    for name in SUITES:
        print(f"\n=== {name}")
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
