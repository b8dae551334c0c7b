"""The VAE's objective (`gankit.game.elbo`) three ways: against torch.distributions, against
values worked out by hand, and by the bound's invariants on a model whose log-likelihood is
exact (a linear-Gaussian decoder with a 1-D latent: p(x) = N(b, w w^T + s^2 I), the exact
posterior in closed form): ELBO <= log p(x) with the gap KL(q || posterior), equality at the
exact posterior, ELBO <= IWAE_k <= log p(x) in expectation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Bernoulli, MultivariateNormal, Normal, kl_divergence

from gankit.game.elbo import (
    LOG_2PI,
    bernoulli_log_likelihood,
    elbo,
    elbo_stats,
    gaussian_kl,
    gaussian_log_likelihood,
    importance_weighted_bound,
    log_normal,
    log_standard_normal,
    negative_elbo_loss,
)

F64 = torch.float64


def _t(values):
    return torch.tensor(values, dtype=F64)


# --- the closed-form terms -----------------------------------------------------------------


def test_gaussian_kl_by_hand():
    # 0.5 (1 + 1 - 1 - 0) + 0.5 (0 + 2 - 1 - log 2) = 1 - log(2) / 2
    kl = gaussian_kl(_t([[1.0, 0.0]]), _t([[0.0, math.log(2.0)]]))
    assert kl.shape == (1,)
    assert kl.item() == pytest.approx(1.0 - 0.5 * math.log(2.0), rel=1e-12)
    assert gaussian_kl(torch.zeros(3, 4, dtype=F64), torch.zeros(3, 4, dtype=F64)).eq(0).all()


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(50, 6, generator=g, dtype=F64) * 2
    logvar = torch.randn(50, 6, generator=g, dtype=F64) * 1.5
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected, rtol=1e-10, atol=1e-12)
    assert (gaussian_kl(mu, logvar) > 0).all()
    # k copies (k, n, d) with batch_dims=2 are k rows of the same
    twice = gaussian_kl(mu.expand(2, 50, 6), logvar, batch_dims=2)
    assert twice.shape == (2, 50)
    torch.testing.assert_close(twice[1], expected, rtol=1e-10, atol=1e-12)


def test_log_normal_and_prior_by_hand_and_against_torch():
    # N(2; 0, 2^2): -0.5 log 2 pi - log 2 - 0.5
    value = log_normal(_t([[2.0]]), _t([[0.0]]), _t([[math.log(4.0)]]))
    assert value.item() == pytest.approx(-0.5 * LOG_2PI - math.log(2.0) - 0.5, rel=1e-12)
    g = torch.Generator().manual_seed(1)
    z, mu = torch.randn(2, 40, 5, generator=g, dtype=F64)
    logvar = torch.randn(40, 5, generator=g, dtype=F64)
    expected = Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(1)
    torch.testing.assert_close(log_normal(z, mu, logvar), expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(
        log_standard_normal(z), Normal(0.0, 1.0).log_prob(z).sum(1), rtol=1e-10, atol=1e-12
    )


def test_bernoulli_log_likelihood_by_hand():
    # x = 0.3 at logit 0: 0.3 log .5 + 0.7 log .5 = log .5; x = 1 at logit log 3: log(3/4)
    value = bernoulli_log_likelihood(_t([[0.0, math.log(3.0)]]), _t([[0.3, 1.0]]))
    assert value.item() == pytest.approx(math.log(0.5) + math.log(0.75), rel=1e-12)


def test_bernoulli_log_likelihood_matches_torch_on_binary_and_grey_targets():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(20, 1, 4, 4, generator=g, dtype=F64) * 3
    binary = torch.randint(0, 2, (20, 1, 4, 4), generator=g).to(F64)
    expected = Bernoulli(logits=logits).log_prob(binary).sum((1, 2, 3))
    torch.testing.assert_close(
        bernoulli_log_likelihood(logits, binary), expected, rtol=1e-10, atol=1e-12
    )
    grey = torch.rand(20, 1, 4, 4, generator=g, dtype=F64)
    p = torch.sigmoid(logits)
    cross_entropy = (grey * p.log() + (1 - grey) * (1 - p).log()).sum((1, 2, 3))
    torch.testing.assert_close(
        bernoulli_log_likelihood(logits, grey), cross_entropy, rtol=1e-10, atol=1e-12
    )


def test_bernoulli_log_likelihood_is_finite_at_extreme_logits():
    logits = torch.tensor([[200.0, -200.0, 200.0, -200.0]])
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    value = bernoulli_log_likelihood(logits, x)
    assert torch.isfinite(value).all()
    assert value.item() == pytest.approx(-400.0, rel=1e-6)  # two right (0 each), two wrong


def test_gaussian_log_likelihood_by_hand_and_against_torch():
    value = gaussian_log_likelihood(_t([[0.0]]), math.log(2.0), _t([[2.0]]))
    assert value.item() == pytest.approx(-0.5 * LOG_2PI - math.log(2.0) - 0.5, rel=1e-12)
    g = torch.Generator().manual_seed(3)
    mean, x = torch.randn(2, 30, 3, 5, 5, generator=g, dtype=F64)
    for log_scale in (
        torch.randn(3, 5, 5, generator=g, dtype=F64),  # a learned scalar per dimension
        torch.randn(30, 3, 5, 5, generator=g, dtype=F64),  # one per sample and dimension
        torch.tensor(-0.7, dtype=F64),
    ):
        expected = Normal(mean, log_scale.exp()).log_prob(x).sum((1, 2, 3))
        got = gaussian_log_likelihood(mean, log_scale, x)
        assert got.shape == (30,)
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


# --- the ELBO, its loss and its stats ---------------------------------------------------------


def test_elbo_loss_and_stats():
    log_lik, kl = _t([-3.0, -5.0]), _t([1.0, 2.0])
    torch.testing.assert_close(elbo(log_lik, kl), _t([-4.0, -7.0]))
    assert negative_elbo_loss(log_lik, kl).item() == pytest.approx(5.5)
    assert negative_elbo_loss(log_lik, kl, kl_weight=0.0).item() == pytest.approx(4.0)
    stats = elbo_stats(log_lik.requires_grad_(), kl)
    assert set(stats) == {"elbo", "reconstruction", "kl"}
    assert [float(stats[k]) for k in ("elbo", "reconstruction", "kl")] == [-5.5, -4.0, 1.5]
    assert all(v.dim() == 0 and not v.requires_grad for v in stats.values())


def test_elbo_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match="same shape"):
        elbo(torch.zeros(4), torch.zeros(4, 1))
    with pytest.raises(ValueError, match="same shape"):
        negative_elbo_loss(torch.zeros(4, 1), torch.zeros(4))


def test_composes_with_torch_func():
    g = torch.Generator().manual_seed(4)
    mu, logvar = torch.randn(2, 8, 3, generator=g, dtype=F64)
    per_sample = torch.func.vmap(lambda m, lv: gaussian_kl(m, lv, batch_dims=0))(mu, logvar)
    torch.testing.assert_close(per_sample, gaussian_kl(mu, logvar))
    # d/dmu of mean KL = mu / n; d/dlogvar = (exp(logvar) - 1) / (2 n)
    grads = torch.func.grad(
        lambda m, lv: negative_elbo_loss(torch.zeros(8, dtype=F64), gaussian_kl(m, lv)),
        argnums=(0, 1),
    )(mu, logvar)
    torch.testing.assert_close(grads[0], mu / 8)
    torch.testing.assert_close(grads[1], (logvar.exp() - 1) / 16)


# --- the importance-weighted bound ------------------------------------------------------------


def test_iwae_by_hand():
    # log w = [0, log 3]: log((1 + 3) / 2) = log 2, whatever the split into the three terms
    zeros = torch.zeros(2, 1, dtype=F64)
    log_w = _t([[0.0], [math.log(3.0)]])
    assert importance_weighted_bound(log_w, zeros, zeros).item() == pytest.approx(math.log(2.0))
    split = importance_weighted_bound(zeros, log_w + 1.0, zeros + 1.0)
    assert split.item() == pytest.approx(math.log(2.0))
    # stable far from 0, and invariant to the order of the samples
    big = _t([[-1000.0, 500.0], [-1000.0 + math.log(3.0), 500.0]])
    got = importance_weighted_bound(big, torch.zeros_like(big), torch.zeros_like(big))
    torch.testing.assert_close(got, _t([-1000.0 + math.log(2.0), 500.0]))
    torch.testing.assert_close(
        importance_weighted_bound(big.flip(0), *[torch.zeros_like(big)] * 2), got
    )


def test_iwae_with_one_sample_is_the_single_sample_elbo():
    g = torch.Generator().manual_seed(5)
    log_px_z, log_pz, log_qz = torch.randn(3, 1, 7, generator=g, dtype=F64)
    torch.testing.assert_close(
        importance_weighted_bound(log_px_z, log_pz, log_qz), (log_px_z + log_pz - log_qz)[0]
    )


def test_iwae_refuses_bad_shapes():
    with pytest.raises(ValueError, match="k samples"):
        importance_weighted_bound(*[torch.zeros(5)] * 3)
    with pytest.raises(ValueError, match="same shape"):
        importance_weighted_bound(torch.zeros(2, 5), torch.zeros(2, 5), torch.zeros(5))


# --- bounds on a model with an exact log-likelihood -------------------------------------------

QUADRATURE = 8  # Gauss-Hermite nodes: exact for E_q of log p(x|z), quadratic in z


class LinearGaussian:
    """z ~ N(0, 1); x | z ~ N(w z + b, s^2 I): p(x) = N(b, w w^T + s^2 I) exactly."""

    def __init__(self, w, b, log_s):
        self.w, self.b, self.log_s = _t(w), _t(b), float(log_s)
        self.dim = self.w.numel()

    def log_marginal(self, x):
        cov = torch.outer(self.w, self.w) + math.exp(2 * self.log_s) * torch.eye(
            self.dim, dtype=F64
        )
        return MultivariateNormal(self.b, cov).log_prob(x)

    def posterior(self, x):
        """The exact q*(z|x) = N(m, v): (n, 1) mean and log-variance."""
        s2 = math.exp(2 * self.log_s)
        v = 1.0 / (1.0 + self.w.square().sum() / s2)
        m = v * ((x - self.b) @ self.w) / s2
        return m[:, None], torch.full_like(m[:, None], float(v.log()))

    def log_likelihood(self, z, x, batch_dims):
        """log p(x|z) with the function under test; z (..., 1)."""
        return gaussian_log_likelihood(z * self.w + self.b, self.log_s, x, batch_dims=batch_dims)

    def elbo_exact(self, x, mu, logvar):
        """E_q[log p(x|z)] by Gauss-Hermite quadrature (exact here), minus the closed-form KL."""
        nodes, weights = np.polynomial.hermite.hermgauss(QUADRATURE)
        nodes, weights = _t(nodes)[:, None, None], _t(weights)[:, None] / math.sqrt(math.pi)
        z = mu + math.sqrt(2.0) * (0.5 * logvar).exp() * nodes  # (Q, n, 1)
        expected = (weights * self.log_likelihood(z, x, batch_dims=2)).sum(0)
        return elbo(expected, gaussian_kl(mu, logvar))

    def iwae(self, x, mu, logvar, k, generator):
        z = mu + (0.5 * logvar).exp() * torch.randn(k, *mu.shape, generator=generator, dtype=F64)
        return importance_weighted_bound(
            self.log_likelihood(z, x, batch_dims=2),
            log_standard_normal(z, batch_dims=2),
            log_normal(z, mu, logvar, batch_dims=2),
        )


def _points(model, seed, n=16):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 1, generator=g, dtype=F64) * 2.0  # also far in the tails
    s = math.exp(model.log_s)
    return z * model.w + model.b + s * torch.randn(n, model.dim, generator=g, dtype=F64)


def _normal_kl(mu_q, logvar_q, mu_p, logvar_p):
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1)


coordinate = st.floats(-3.0, 3.0, allow_nan=False)
models = st.integers(1, 4).flatmap(
    lambda d: st.tuples(
        st.lists(coordinate, min_size=d, max_size=d),
        st.lists(coordinate, min_size=d, max_size=d),
        st.floats(-1.5, 1.0),
    )
)


@settings(max_examples=60, deadline=None)
@given(models, st.integers(0, 2**31 - 1))
def test_elbo_is_below_the_log_likelihood_by_the_posterior_kl(params, seed):
    model = LinearGaussian(*params)
    x = _points(model, seed)
    g = torch.Generator().manual_seed(seed + 1)
    mu = torch.randn(16, 1, generator=g, dtype=F64) * 2.0  # a random encoder's outputs
    logvar = torch.empty(16, 1, dtype=F64).uniform_(-4.0, 2.0, generator=g)
    log_p = model.log_marginal(x)
    bound = model.elbo_exact(x, mu, logvar)
    assert (bound <= log_p + 1e-9).all()
    # the gap is KL(q(z|x) || p(z|x)), with the exact posterior in closed form
    m, v = model.posterior(x)
    torch.testing.assert_close(
        log_p - bound, _normal_kl(mu, logvar, m, v)[:, 0], rtol=1e-7, atol=1e-8
    )


@settings(max_examples=40, deadline=None)
@given(models, st.integers(0, 2**31 - 1))
def test_the_exact_posterior_makes_both_bounds_tight(params, seed):
    model = LinearGaussian(*params)
    x = _points(model, seed)
    mu, logvar = model.posterior(x)
    log_p = model.log_marginal(x)
    torch.testing.assert_close(model.elbo_exact(x, mu, logvar), log_p, rtol=1e-9, atol=1e-9)
    # every importance weight is p(x): the bound is exact for any k and any draw
    g = torch.Generator().manual_seed(seed)
    for k in (1, 5):
        torch.testing.assert_close(model.iwae(x, mu, logvar, k, g), log_p, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_iwae_climbs_from_the_elbo_towards_the_log_likelihood(seed):
    g = torch.Generator().manual_seed(100 + seed)
    w, b = torch.randn(2, 3, generator=g).tolist()
    model = LinearGaussian(w, b, -0.5)
    x = _points(model, seed, n=8)
    m, logvar_post = model.posterior(x)
    # an encoder off the posterior: shifted by 1 to 2 posterior stds, e^0.5 to e^1.5 too wide
    sign = torch.randint(0, 2, m.shape, generator=g).to(m) * 2 - 1
    shift = sign * torch.empty_like(m).uniform_(1.0, 2.0, generator=g)
    mu = m + (0.5 * logvar_post).exp() * shift
    logvar = logvar_post + torch.empty_like(m).uniform_(0.5, 1.5, generator=g)
    log_p, bound = model.log_marginal(x), model.elbo_exact(x, mu, logvar)
    repeats = 200

    def mean_iwae(k):
        xs, mus, lvs = (t.repeat(repeats, 1) for t in (x, mu, logvar))
        draws = model.iwae(xs, mus, lvs, k, g).reshape(repeats, -1)
        return draws.mean(0), draws.std(0) / math.sqrt(repeats)

    (l1, l1_err), (l2, _), (l10, _), (l500, l500_err) = map(mean_iwae, (1, 2, 10, 500))
    assert ((l1 - bound).abs() <= 5 * l1_err).all()  # E[L_1] = ELBO
    assert (bound < l500).all()
    assert (l500 <= log_p + 5 * l500_err).all()
    assert ((log_p - l500).abs() < 0.05 * (log_p - bound)).all()  # the gap shrinks 20-fold
    # E[L_k] grows with k (Burda et al. 2016, theorem 1), on the mean over the points
    assert l1.mean() < l2.mean() < l10.mean() < l500.mean()
