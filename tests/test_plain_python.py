"""The kernels are plain Python functions wrapped by Numba, so NUMBA_DISABLE_JIT=1 runs them as
ordinary Python (for a debugger or print statements) and gives the same numbers."""
import json
import os
import subprocess
import sys

import numpy as np

SCRIPT = """
import json, numpy as np
from nutshell_lib import avg_pool2d_backward, conv2d, conv2d_backward, max_pool2d, max_pool2d_backward
from nutshell_lib.ops.elementwise import relu_backward
rng = np.random.default_rng(0)
x = rng.standard_normal((3, 2, 7, 6))
w = rng.standard_normal((4, 2, 3, 2))
y = conv2d(x, w, stride=(2, 1), padding=1, device="cpu")
dx, dw, db = conv2d_backward(np.ones_like(y), x, w, stride=(2, 1), padding=1, device="cpu")
x32, w32 = x.astype(np.float32), w.astype(np.float32)
direct = conv2d(x32, w32, padding=1, device="cpu")  # stride 1, 4 filters, float32: the direct kernels
ddx, ddw, _ = conv2d_backward(direct, x32, w32, padding=1, device="cpu")
m = max_pool2d(x, 3, stride=2, device="cpu")
dm = max_pool2d_backward(np.ones_like(m), x, 3, stride=2, device="cpu")
da = avg_pool2d_backward(np.ones_like(m), x, 3, stride=2, device="cpu")
dt = max_pool2d_backward(np.ones((3, 2, 3, 3), np.float32), x32, 2, device="cpu")  # windows that tile the plane: float32
r = relu_backward(x[::-1], x)
print(json.dumps([a.tolist() for a in (y, dx, dw, direct, ddx, ddw, m, dm, da, dt, r)]))
"""


def results(disable_jit: str) -> list:
    env = dict(os.environ, NUMBA_DISABLE_JIT=disable_jit)
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [np.array(a) for a in json.loads(result.stdout)]


# The direct kernels' results (3 to 5) are float32, and compiled they fuse multiply-adds.
TOLERANCES = [1e-12] * 3 + [1e-5] * 3 + [1e-12] * 5


def test_kernels_run_without_the_jit_and_agree():
    for plain, compiled, tolerance in zip(results("1"), results("0"), TOLERANCES, strict=True):
        np.testing.assert_allclose(plain, compiled, rtol=tolerance, atol=tolerance)
