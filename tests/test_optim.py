"""Optimizers against updates computed by hand with PyTorch's formulas; schedules; clipping."""
import math
import re

import numpy as np
import pytest

from nutshell_lib.layers import Dense, Sequential
from nutshell_lib.optim import SGD, Adam, AdamW, Constant, Cosine, StepDecay, Warmup, clip_grad_norm


class OneParameter:
    """The smallest model: a single parameter whose gradient the test sets."""

    def __init__(self, value):
        self.params = {"w": np.array([value], dtype=np.float64)}
        self.grads = {"w": np.zeros(1)}

    def run(self, optimizer, gradients):
        values = []
        for g in gradients:
            self.grads["w"] = np.array([g])
            optimizer.step()
            values.append(float(self.params["w"][0]))
        return values


GRADIENTS = [0.5, -1.0, 2.0]


def test_plain_sgd():
    model = OneParameter(1.0)
    assert model.run(SGD(model, lr=0.1), GRADIENTS) == pytest.approx([0.95, 1.05, 0.85])


def test_sgd_momentum_and_weight_decay():
    model = OneParameter(1.0)
    got = model.run(SGD(model, lr=0.1, momentum=0.9, weight_decay=0.1), GRADIENTS)
    # g1 = 0.5 + 0.1*1 = 0.6; v1 = 0.6; p1 = 1 - 0.06 = 0.94
    # g2 = -1 + 0.094 = -0.906; v2 = 0.54 - 0.906 = -0.366; p2 = 0.94 + 0.0366 = 0.9766
    # g3 = 2 + 0.09766 = 2.09766; v3 = -0.3294 + 2.09766 = 1.76826; p3 = 0.9766 - 0.176826 = 0.799774
    assert got == pytest.approx([0.94, 0.9766, 0.799774])


def test_sgd_nesterov():
    model = OneParameter(1.0)
    got = model.run(SGD(model, lr=0.1, momentum=0.9, nesterov=True), GRADIENTS)
    # v1 = 0.5; p1 = 1 - 0.1*(0.5 + 0.45) = 0.905
    # v2 = 0.45 - 1 = -0.55; p2 = 0.905 - 0.1*(-1 - 0.495) = 1.0545
    # v3 = -0.495 + 2 = 1.505; p3 = 1.0545 - 0.1*(2 + 1.3545) = 0.71905
    assert got == pytest.approx([0.905, 1.0545, 0.71905])


def reference_adam(p, gradients, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
    """PyTorch's documented Adam/AdamW algorithm, step by step in plain floats."""
    m = v = 0.0
    out = []
    for t, g in enumerate(gradients, start=1):
        if decoupled:
            p *= 1 - lr * wd
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p -= lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(p)
    return out


def test_adam_first_step_moves_by_lr():
    model = OneParameter(1.0)
    # after bias correction the first step is lr * g / |g| (up to eps)
    assert model.run(Adam(model, lr=0.01), [0.5]) == pytest.approx([0.99], abs=1e-9)


def test_adam_and_weight_decay_variants():
    for optimizer, expected in [
        (lambda m: Adam(m, lr=0.1), reference_adam(1.0, GRADIENTS, 0.1)),
        (lambda m: Adam(m, lr=0.1, weight_decay=0.5), reference_adam(1.0, GRADIENTS, 0.1, wd=0.5)),
        (lambda m: AdamW(m, lr=0.1, weight_decay=0.5), reference_adam(1.0, GRADIENTS, 0.1, wd=0.5, decoupled=True)),
        (lambda m: Adam(m, lr=0.1, betas=(0.5, 0.9)), reference_adam(1.0, GRADIENTS, 0.1, b1=0.5, b2=0.9)),
    ]:
        model = OneParameter(1.0)
        assert model.run(optimizer(model), GRADIENTS) == pytest.approx(expected, rel=1e-12)
    # decoupled decay differs from the L2 penalty
    assert reference_adam(1.0, GRADIENTS, 0.1, wd=0.5)[-1] != pytest.approx(
        reference_adam(1.0, GRADIENTS, 0.1, wd=0.5, decoupled=True)[-1])


def test_optimizer_updates_a_real_model_in_place():
    model = Sequential([Dense(3, 2, rng=0)])
    W = model[0].params["W"]
    before = W.copy()
    model.forward(np.ones((4, 3), np.float32))
    model.backward(np.ones((4, 2), np.float32))
    SGD(model, lr=0.5).step()
    assert model[0].params["W"] is W and W.dtype == np.float32
    np.testing.assert_allclose(W, before - 0.5 * 4 * np.ones((3, 2)), rtol=1e-6)


def test_schedules():
    step = StepDecay(1.0, step_size=3, gamma=0.5)
    assert [step.lr_at(t) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    cosine = Cosine(1.0, total_steps=10, min_lr=0.1)
    assert cosine.lr_at(0) == 1.0 and cosine.lr_at(5) == pytest.approx(0.55) and cosine.lr_at(10) == pytest.approx(0.1)
    assert cosine.lr_at(50) == pytest.approx(0.1)
    warm = Warmup(Cosine(1.0, total_steps=10), warmup_steps=4)
    assert [warm.lr_at(t) for t in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert warm.lr_at(4) == 1.0 and warm.lr_at(9) == pytest.approx(0.5)
    assert Warmup(0.2, 2).lr_at(0) == 0.1 and Constant(0.3).lr_at(99) == 0.3


def test_optimizer_follows_its_schedule():
    model = OneParameter(0.0)
    optimizer = SGD(model, lr=StepDecay(1.0, step_size=2, gamma=0.1))
    assert model.run(optimizer, [1.0, 1.0, 1.0]) == pytest.approx([-1.0, -2.0, -2.1])
    assert optimizer.steps == 3 and optimizer.lr == pytest.approx(0.1)


def test_clip_grad_norm():
    model = Sequential([Dense(2, 2, rng=0, dtype=np.float64), Dense(2, 1, rng=0, dtype=np.float64)])
    model[0].grads.update(W=np.full((2, 2), 3.0), b=np.zeros(2))
    model[1].grads.update(W=np.full((2, 1), 2.0), b=np.array([0.0]))
    norm = clip_grad_norm(model, max_norm=1.0)
    assert norm == pytest.approx(math.sqrt(4 * 9 + 2 * 4))
    clipped = math.sqrt(sum(float((g ** 2).sum()) for g in model.grads.values()))
    assert clipped == pytest.approx(1.0, rel=1e-5)
    assert model[0].grads["W"][0, 0] / model[1].grads["W"][0, 0] == pytest.approx(1.5)  # direction kept
    assert clip_grad_norm(model, max_norm=10.0) == pytest.approx(clipped)
    assert math.sqrt(sum(float((g ** 2).sum()) for g in model.grads.values())) == pytest.approx(clipped)


@pytest.mark.parametrize("call, message", [
    (lambda m: SGD(m, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda m: SGD(m, lr=0.1, momentum=1.5), r"SGD: momentum must be a finite number >= 0 and < 1, got 1.5"),
    (lambda m: Adam(m, betas=(0.9, 1.0)), r"Adam: beta2 must be a finite number >= 0 and < 1, got 1.0"),
    (lambda m: SGD(m, lr=-1), "SGD: Constant: lr must be a finite number >= 0, got -1"),
    (lambda m: SGD(m, lr=float("nan")), "SGD: Constant: lr must be a finite number >= 0, got nan"),
    (lambda m: Adam(m, lr=float("inf")), "Adam: Constant: lr must be a finite number >= 0, got inf"),
    (lambda m: Adam(m, eps=0.0), "Adam: eps must be a finite number > 0, got 0.0"),
    (lambda m: SGD(m, lr=0.1, weight_decay=-1), "SGD: weight_decay must be a finite number >= 0, got -1"),
    (lambda m: SGD(m, lr=0.1, weight_decay=float("nan")), "SGD: weight_decay must be a finite number >= 0, got nan"),
    (lambda m: Cosine(0.1, 0), "total_steps must be an int >= 1"),
    (lambda m: clip_grad_norm(m, 0), "max_norm must be positive"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(OneParameter(0.0))


@pytest.mark.parametrize("call, message", [
    (lambda m: SGD(m, lr="0.1"), "SGD: lr must be a number or a schedule with lr_at(step), got str"),
    (lambda m: SGD(m, lr=0.1, momentum="0.9"), "SGD: momentum must be a number, got '0.9'"),
    (lambda m: Adam(m, betas=0.9), "Adam: betas must be a pair (beta1, beta2), got 0.9"),
    (lambda m: Cosine(0.1, 10.5), "Cosine: total_steps must be an int >= 1, got 10.5"),
])
def test_wrong_kinds_of_argument_are_type_errors(call, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        call(OneParameter(0.0))
