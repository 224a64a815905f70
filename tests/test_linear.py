"""ops.linear (Dense's maths): against float64 loops, on several threads, with clear errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nutshell_lib.ops.linear import linear, linear_backward
from oracles import dense_backward_loops, dense_loops

pytestmark = pytest.mark.usefixtures("threads_even_for_small_arrays")


@given(n=st.integers(1, 9), d=st.integers(1, 6), m=st.integers(1, 5), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_loops(n, d, m, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w, b, dy = (rng.standard_normal(shape).astype(dtype) for shape in [(n, d), (d, m), (m,), (n, m)])
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    y = linear(x, w, b)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, dense_loops(x, w, b), rtol=tolerance, atol=tolerance)
    for got, expected in zip(linear_backward(dy, x, w), dense_backward_loops(dy, x, w)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_fortran_order_and_slices():
    rng = np.random.default_rng(1)
    x = np.asfortranarray(rng.standard_normal((7, 5)))
    w = rng.standard_normal((10, 3))[::2]
    b = rng.standard_normal(3)
    np.testing.assert_allclose(linear(x, w, b), dense_loops(x, w, b), rtol=1e-12)


@pytest.mark.parametrize("call, pattern", [
    (lambda: linear(np.ones((2, 3)), np.ones((4, 5)), np.ones(5)), r"D = 4 rows but x \(N, D\) has D = 3.*\(2, 3\).*\(4, 5\)"),
    (lambda: linear(np.ones((2, 3)), np.ones((3, 5)), np.ones(4)), r"b must have shape \(M,\) = \(5,\).*got shape \(4,\)"),
    (lambda: linear(np.ones(3), np.ones((3, 5)), np.ones(5)), r"x must have 2 dimensions \(N, D\), got shape \(3,\)"),
    (lambda: linear_backward(np.ones((2, 4)), np.ones((2, 3)), np.ones((3, 5))), r"dy must have the shape of y \(N, M\) = \(2, 5\).*\(2, 4\)"),
])
def test_bad_shapes_are_named(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_text_is_refused():
    with pytest.raises(TypeError, match="x must be a numeric array"):
        linear("abc", np.ones((3, 5)), np.ones(5))
