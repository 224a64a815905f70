"""The elementwise ops against their equations written out in NumPy."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nutshell_lib.ops.elementwise import relu_backward

pytestmark = pytest.mark.usefixtures("threads_even_for_small_arrays")

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=7)


@settings(max_examples=60)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_relu_backward_passes_dy_where_x_is_positive(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(dtype)  # many exact zeros: the derivative there is 0
    dy = rng.standard_normal(shape).astype(dtype)
    dx = relu_backward(dy, x)
    assert dx.shape == x.shape and dx.dtype == dtype
    np.testing.assert_array_equal(dx, np.where(x > 0, dy, 0))


def test_relu_backward_takes_any_layout_and_promotes_like_numpy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    dy = np.asfortranarray(rng.standard_normal((5, 6)).T)  # float64, not C-contiguous
    dx = relu_backward(dy, x[:, ::-1])
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, np.where(x[:, ::-1] > 0, dy, 0))


@pytest.mark.parametrize("dy, x, error, pattern", [
    (np.ones(3), np.ones(4), ValueError, r"dy and x must have one shape, got dy \(3,\) and x \(4,\)"),
    (np.ones(3, int), np.ones(3), TypeError, r"relu: dy must be a float array, got dtype int64 with shape \(3,\)"),
    (np.ones(3), np.array(["a", "b", "c"]), TypeError, r"relu: x must be a float array, got dtype <U1"),
])
def test_relu_backward_rejects_bad_input(dy, x, error, pattern):
    with pytest.raises(error, match=pattern):
        relu_backward(dy, x)


def test_relu_layer_backward_is_dy_times_the_formulas_gradient():
    """The fused kernel and the formula ReLU shares with the GPU (kernels.activation_formulas) agree."""
    from nutshell_lib.ops.elementwise import RELU

    rng = np.random.default_rng(2)
    x = rng.integers(-3, 4, (4, 3, 5, 5)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y = RELU.forward(x, 0.0)
    np.testing.assert_array_equal(RELU.backward(dy, x, y, 0.0), dy * RELU.gradient(x, y, 0.0))


@settings(max_examples=40)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_relu_is_numpys_maximum_bit_for_bit(shape, dtype, seed):
    """Including NaN (stays NaN) and -0.0 (becomes 0.0), as np.maximum(x, 0) has them."""
    from nutshell_lib.ops.elementwise import relu

    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1.5, -0.0, 0.0, 2.0, np.nan, np.inf, -np.inf], dtype), size=shape)
    expected = np.maximum(x, 0)
    got = relu(x)
    assert got.dtype == dtype and got.shape == x.shape
    assert got.tobytes() == expected.tobytes()
