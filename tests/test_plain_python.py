"""The kernels are plain Python functions wrapped by Numba, so NUMBA_DISABLE_JIT=1 runs them as
ordinary Python (for a debugger or print statements) and gives the same numbers."""
import json
import os
import subprocess
import sys

import numpy as np

from nutshell_lib import avg_pool2d_backward, conv2d, conv2d_backward, max_pool2d, max_pool2d_backward

SCRIPT = """
import json, numpy as np
from nutshell_lib import avg_pool2d_backward, conv2d, conv2d_backward, max_pool2d, max_pool2d_backward
rng = np.random.default_rng(0)
x = rng.standard_normal((3, 2, 7, 6))
w = rng.standard_normal((4, 2, 3, 2))
y = conv2d(x, w, stride=(2, 1), padding=1, device="cpu")
dx, dw, db = conv2d_backward(np.ones_like(y), x, w, stride=(2, 1), padding=1, device="cpu")
m = max_pool2d(x, 3, stride=2, device="cpu")
dm = max_pool2d_backward(np.ones_like(m), x, 3, stride=2, device="cpu")
da = avg_pool2d_backward(np.ones_like(m), x, 3, stride=2, device="cpu")
print(json.dumps([a.tolist() for a in (y, dx, dw, m, dm, da)]))
"""


def test_kernels_run_without_the_jit_and_agree():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    plain = [np.array(a) for a in json.loads(result.stdout)]

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 7, 6))
    w = rng.standard_normal((4, 2, 3, 2))
    y = conv2d(x, w, stride=(2, 1), padding=1, device="cpu")
    dx, dw, _ = conv2d_backward(np.ones_like(y), x, w, stride=(2, 1), padding=1, device="cpu")
    m = max_pool2d(x, 3, stride=2, device="cpu")
    dm = max_pool2d_backward(np.ones_like(m), x, 3, stride=2, device="cpu")
    da = avg_pool2d_backward(np.ones_like(m), x, 3, stride=2, device="cpu")
    for got, expected in zip(plain, (y, dx, dw, m, dm, da)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
