"""The VAE's pieces (gaussian_kl, reparameterize, GaussianSample) against the KL written out
element by element and integrated numerically, sample statistics, and float64 central
differences; the GAN's loss (binary cross-entropy from logits) at logits of +-1000."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.integrate import quad
from scipy.stats import norm

from nutshell_lib.gradcheck import gradcheck
from nutshell_lib.layers import GaussianSample, reparameterize, reparameterize_backward
from nutshell_lib.losses import binary_cross_entropy, gaussian_kl


def kl_by_loops(mu, log_var):
    """Batch mean of 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), one element at a time."""
    total = 0.0
    for n in range(mu.shape[0]):
        for j in range(mu.shape[1]):
            total += 0.5 * (mu[n, j] ** 2 + np.exp(log_var[n, j]) - 1.0 - log_var[n, j])
    return total / mu.shape[0]


def kl_by_integration(mu, log_var):
    """KL(N(mu, sigma^2) || N(0, 1)) = integral of q log(q / p), numerically, for one latent."""
    q, p = norm(mu, np.exp(0.5 * log_var)), norm(0.0, 1.0)
    value, _ = quad(lambda t: q.pdf(t) * (q.logpdf(t) - p.logpdf(t)), mu - 12 * q.std(), mu + 12 * q.std())
    return value


def test_gaussian_kl_matches_the_closed_form_written_out():
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    loss, dmu, dlog_var = gaussian_kl(mu, log_var)
    assert loss == pytest.approx(kl_by_loops(mu, log_var), rel=1e-12)
    np.testing.assert_allclose(dmu, mu / 5, rtol=1e-14)
    np.testing.assert_allclose(dlog_var, (np.exp(log_var) - 1) / 10, rtol=1e-12)


@pytest.mark.parametrize("mu, log_var", [(0.0, 0.0), (0.5, -1.0), (-2.0, 1.5), (1.0, -4.0)])
def test_gaussian_kl_is_the_integral_of_q_log_q_over_p(mu, log_var):
    assert gaussian_kl([[mu]], [[log_var]])[0] == pytest.approx(kl_by_integration(mu, log_var), rel=1e-7, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), latent=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_gaussian_kl_gradients_central_differences(n, latent, seed):
    rng = np.random.default_rng(seed)

    def kl(mu, log_var):
        loss, dmu, dlog_var = gaussian_kl(mu, log_var)
        return loss, (dmu, dlog_var)

    result = gradcheck(kl, (rng.normal(size=(n, latent)), rng.normal(scale=2, size=(n, latent))), wrt=(0, 1))
    assert result, result.report()


def test_gaussian_kl_is_accurate_near_the_prior():
    # exp(v) - 1 - v = v^2 / 2 + ...: cancels for small v; expm1 keeps it
    loss, _, dlog_var = gaussian_kl(np.zeros((1, 1)), np.full((1, 1), 1e-8))
    assert loss == pytest.approx(0.25e-16, rel=1e-6, abs=0)
    assert dlog_var[0, 0] == pytest.approx(0.5e-8, rel=1e-7, abs=0)
    assert gaussian_kl(np.zeros((3, 2)), np.zeros((3, 2)))[0] == 0.0


def test_gaussian_kl_keeps_float32_and_refuses_bad_input():
    mu = np.ones((2, 3), np.float32)
    _, dmu, dlog_var = gaussian_kl(mu, mu)
    assert dmu.dtype == dlog_var.dtype == np.float32
    with pytest.raises(ValueError, match=r"same shape \(N, ...\), got \(2, 3\) and \(3, 2\)"):
        gaussian_kl(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="log_var must hold real numbers"):
        gaussian_kl(np.zeros(2), np.array(["a", "b"]))


def test_reparameterize_draws_from_the_gaussian_it_is_given():
    mu, log_var = np.full((200_000, 2), [1.5, -2.0]), np.full((200_000, 2), [np.log(0.25), np.log(4.0)])
    z, eps = reparameterize(mu, log_var, np.random.default_rng(0))
    np.testing.assert_array_equal(z, mu + np.exp(0.5 * log_var) * eps)
    np.testing.assert_allclose(z.mean(axis=0), [1.5, -2.0], atol=0.02)   # 5 standard errors at most
    np.testing.assert_allclose(z.std(axis=0), [0.5, 2.0], rtol=0.01)
    again, _ = reparameterize(mu[:5], log_var[:5], 3)
    np.testing.assert_array_equal(again, reparameterize(mu[:5], log_var[:5], 3)[0])  # a seed fixes the draw


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_reparameterize_backward_central_differences(shape, seed):
    rng = np.random.default_rng(seed)
    mu, log_var, dz = (rng.normal(size=shape) for _ in range(3))
    eps = rng.standard_normal(shape)

    def loss(mu, log_var):
        return float(np.sum((mu + np.exp(0.5 * log_var) * eps) * dz)), reparameterize_backward(dz, eps, log_var)

    result = gradcheck(loss, (mu, log_var), wrt=(0, 1))
    assert result, result.report()


def test_reparameterize_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"reparameterize: mu and log_var must have the same shape, got \(2, 3\) and \(2, 4\)"):
        reparameterize(np.zeros((2, 3)), np.zeros((2, 4)), 0)
    with pytest.raises(ValueError, match=r"eps must have dz's shape \(2, 3\), got \(3, 2\)"):
        reparameterize_backward(np.zeros((2, 3)), np.zeros((3, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4)])
def test_gaussian_sample_layer_gradients(shape):
    rng = np.random.default_rng(1)
    x, dy = rng.normal(size=shape), rng.normal(size=shape[:-1] + (shape[-1] // 2,))

    def loss(x):
        layer = GaussianSample(rng=7)  # the same seed draws the same eps on every call
        return float(np.sum(layer.forward(x) * dy)), layer.backward(dy)

    result = gradcheck(loss, (x,))
    assert result, result.report()


def test_gaussian_sample_layer_splits_mu_and_log_var_and_returns_mu_in_evaluation():
    x = np.random.default_rng(2).normal(size=(3, 4))
    layer = GaussianSample(rng=0)
    z = layer.forward(x)
    np.testing.assert_array_equal(z, x[:, :2] + np.exp(0.5 * x[:, 2:]) * layer.eps)
    np.testing.assert_array_equal(layer.forward(x, training=False), x[:, :2])
    assert layer.params == {} and layer.grads == {}
    with pytest.raises(ValueError, match=r"GaussianSample\(\): the last axis holds \[mu, log_var\].*\(3, 5\)"):
        layer.forward(np.zeros((3, 5)))
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        GaussianSample().backward(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"expected dy of the output's shape \(3, 2\), got \(2, 3\)"):
        layer.backward(np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_is_exact_at_logits_of_a_thousand(dtype):
    # a GAN's discriminator can be certain: -log sigmoid(-1000) = 1000 + log1p(e^-1000) = 1000
    z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dz = binary_cross_entropy(z, np.array([[0.0], [1.0], [1.0], [0.0]], dtype))
    assert loss == pytest.approx(500.0, rel=1e-6) and dz.dtype == dtype
    np.testing.assert_allclose(dz, [[0.25], [-0.25], [0], [0]], atol=1e-7)
