"""gradcheck itself: it must pass correct code and catch (and point at) wrong gradients."""
import numpy as np
import pytest

from nutshell_lib import conv2d, conv2d_backward
from nutshell_lib.gradcheck import gradcheck
from nutshell_lib.layers import Conv2D, Dense, Embedding, Sequential, Tanh


class DenseWithWrongBiasGradient(Dense):
    """Plants a bug in one entry of one gradient."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["b"] = self.grads["b"].copy()
        self.grads["b"][2] += 1e-3
        return dx


class DenseWithWrongInputGradient(Dense):
    def backward(self, dy):
        return 1.01 * super().backward(dy)


def test_catches_a_planted_parameter_bug_and_names_it():
    layer = DenseWithWrongBiasGradient(4, 3, rng=0, dtype=np.float64)
    result = gradcheck(layer, np.random.default_rng(0).standard_normal((5, 4)))
    assert not result
    assert result.worst.array == "b" and result.worst.index == (2,)
    assert "FAIL b[2]" in result.report() and "gradcheck FAILED" in result.report()
    assert {m.array for m in result.arrays if m.score > 1} == {"b"}


def test_catches_a_wrong_input_gradient_inside_a_model():
    model = Sequential([Dense(3, 4, rng=0, dtype=np.float64), Tanh(), DenseWithWrongInputGradient(4, 2, rng=1, dtype=np.float64)])
    result = gradcheck(model, np.random.default_rng(1).standard_normal((2, 3)))
    assert not result
    failing = {m.array for m in result.arrays if m.score > 1}
    assert failing == {"input", "0.W", "0.b"}  # everything upstream of the bug


def test_raise_on_failure():
    layer = DenseWithWrongBiasGradient(4, 3, rng=0, dtype=np.float64)
    with pytest.raises(AssertionError, match=r"FAIL b\[2\]"):
        gradcheck(layer, np.ones((2, 4)), raise_on_failure=True)
    assert gradcheck(Dense(2, 2, rng=0, dtype=np.float64), np.ones((1, 2)), raise_on_failure=True)


def test_passes_correct_code_and_reports():
    result = gradcheck(Dense(3, 2, rng=0, dtype=np.float64), np.random.default_rng(0).standard_normal((2, 3)))
    assert result.ok and bool(result)
    assert result.report().startswith("gradcheck passed")
    assert result.worst.relative_error < 1e-6


def test_refuses_float32_parameters():
    with pytest.raises(TypeError, match="build the layer with dtype=np.float64"):
        gradcheck(Dense(3, 2, rng=0), np.ones((1, 3)))


def test_integer_input_checks_only_the_parameters_and_float_input_needs_a_gradient():
    ids = np.array([[0, 2, 2], [1, 0, 2]])
    result = gradcheck(Embedding(3, 2, rng=0, dtype=np.float64), ids)
    assert result and [m.array for m in result.arrays] == ["W"]
    no_input_grad = Conv2D(1, 1, 2, rng=0, dtype=np.float64, input_grad=False)
    with pytest.raises(TypeError, match="backward returned None for a float input"):
        gradcheck(no_input_grad, np.ones((1, 1, 3, 3)))


def test_forward_backward_pair_on_the_functional_conv():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)

    def forward(x, w, b):
        return conv2d(x, w, b, stride=2, padding=1)

    def backward(dy, x, w, b):
        return conv2d_backward(dy, x, w, stride=2, padding=1)

    result = gradcheck((forward, backward), (x, w, b), wrt=(0, 1, 2))
    assert result, result.report()
    assert [m.array for m in result.arrays] == ["input 0", "input 1", "input 2"]

    def wrong_backward(dy, x, w, b):
        dx, dw, db = conv2d_backward(dy, x, w, stride=2, padding=1)
        return dx, dw[:, :, ::-1], db  # a flipped kernel: the classic convolution/correlation mix-up

    assert not gradcheck((forward, wrong_backward), (x, w, b), wrt=(1,))


def test_sampling_entries():
    layer = DenseWithWrongInputGradient(30, 20, rng=0, dtype=np.float64)
    result = gradcheck(layer, np.random.default_rng(0).standard_normal((4, 30)), max_entries=10)
    assert not result and result.worst.array == "input"
    assert gradcheck(Dense(30, 20, rng=0, dtype=np.float64), np.ones((4, 30)), max_entries=10)
