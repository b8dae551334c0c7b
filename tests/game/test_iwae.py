"""The importance-weighted bound of a VAE's own nets (`gankit.game.iwae`, Burda et al. 2016) on
a linear-Gaussian VAE, whose marginal ``p(x) = N(b, W W^T + diag s^2)`` is exact: the bound for
k = 1 is the ELBO in expectation, it rises with k, it stays below log p(x), and with the exact
posterior as the encoder it is log p(x) for any k. Then the VAE run's final metrics
``iwae_k1`` / ``iwae_kK`` (`gankit.recipes.vae.recipe.iwae_metrics`)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import MultivariateNormal

from gankit import api
from gankit import config as config_mod
from gankit.game.elbo import gaussian_kl
from gankit.game.iwae import vae_importance_weighted_bound
from gankit.nets.vae import mlp_vae

F64 = torch.float64


def linear_vae(dim=3, seed=0):
    """A VAE with one latent dimension and linear nets (depth 0), in float64, random weights."""
    torch.manual_seed(seed)
    vae = mlp_vae(dim, latent_dim=1, width=4, depth=0, activation="tanh").double()
    with torch.no_grad():
        vae.raw_log_scale.copy_(torch.linspace(-0.7, 0.2, dim, dtype=F64))
        vae.encoder.net[0].bias[1] = -1.0  # a posterior guess of the wrong width
    return vae


def decoder_of(vae):
    layer = vae.decoder.net[0]
    return layer.weight[:, 0].detach(), layer.bias.detach(), vae.log_scale.detach()


def exact_log_p(vae, x):
    w, b, log_s = decoder_of(vae)
    cov = torch.outer(w, w) + torch.diag(torch.exp(2 * log_s))
    return MultivariateNormal(b, cov).log_prob(x)


def exact_elbo(vae, x):
    """E_q[log p(x|z)] in closed form for the linear decoder, minus the closed-form KL."""
    w, b, log_s = decoder_of(vae)
    with torch.no_grad():
        mu, logvar = vae.encode(x)
    s2 = torch.exp(2 * log_s)
    mean = mu * w + b  # (n, dim)
    spread = logvar.exp() * w.square()  # the decoder mean's variance under q, per dimension
    expected = (
        -0.5 * math.log(2 * math.pi) - log_s - 0.5 * ((x - mean).square() + spread) / s2
    ).sum(1)
    return expected - gaussian_kl(mu, logvar)


def points(vae, n=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    w, b, log_s = decoder_of(vae)
    z = torch.randn(n, 1, generator=g, dtype=F64) * 1.5
    return z * w + b + torch.exp(log_s) * torch.randn(n, w.numel(), generator=g, dtype=F64)


def repeated_bounds(vae, x, k, repeats, seed=0):
    """``(repeats, n)`` independent draws of the bound of each point."""
    g = torch.Generator().manual_seed(seed)
    xs = x.repeat(repeats, 1)
    return vae_importance_weighted_bound(vae, xs, k, g).reshape(repeats, -1)


def test_one_sample_is_the_elbo_in_expectation():
    vae = linear_vae()
    x = points(vae)
    draws = repeated_bounds(vae, x, 1, 4000)
    mean, err = draws.mean(0), draws.std(0) / math.sqrt(draws.shape[0])
    assert ((mean - exact_elbo(vae, x)).abs() <= 5 * err).all()


def test_the_bound_rises_with_k_and_stays_below_the_log_likelihood():
    vae = linear_vae(seed=2)
    x = points(vae, seed=3)
    log_p, elbo = exact_log_p(vae, x), exact_elbo(vae, x)
    assert (elbo < log_p).all()  # this encoder is not the posterior
    means = {}
    for k in (1, 5, 50, 500):
        draws = repeated_bounds(vae, x, k, 200, seed=k)
        means[k] = draws.mean(0)
        err = draws.std(0) / math.sqrt(draws.shape[0])
        assert (means[k] <= log_p + 5 * err).all(), k
    assert means[1].mean() < means[5].mean() < means[50].mean() < means[500].mean()
    # most of the ELBO's gap is closed at k = 500
    assert ((log_p - means[500]) < 0.2 * (log_p - elbo)).all()


def test_the_exact_posterior_makes_the_bound_the_log_likelihood_for_any_k():
    vae = linear_vae(seed=4)
    w, b, log_s = decoder_of(vae)
    s2 = torch.exp(2 * log_s)
    v = 1.0 / (1.0 + (w.square() / s2).sum())  # q*(z|x) = N(v w^T (x - b) / s^2, v)
    with torch.no_grad():
        layer = vae.encoder.net[0]
        layer.weight.zero_()
        layer.weight[0] = v * w / s2
        layer.bias[0] = -(v * w * b / s2).sum()
        layer.bias[1] = torch.log(v)
    x = points(vae, seed=5)
    for k in (1, 7):
        bound = vae_importance_weighted_bound(vae, x, k, torch.Generator().manual_seed(k))
        torch.testing.assert_close(bound, exact_log_p(vae, x), rtol=1e-10, atol=1e-10)


def test_chunks_do_not_change_the_bound():
    vae = linear_vae()
    x = points(vae, n=10)
    one = vae_importance_weighted_bound(vae, x, 8, torch.Generator().manual_seed(0), 10_000)
    many = vae_importance_weighted_bound(vae, x, 8, torch.Generator().manual_seed(0), 8)
    # chunks of one point draw the codes in another order: the same in distribution only
    assert one.shape == many.shape == (10,)
    assert (many <= exact_log_p(vae, x) + 1.0).all()
    with pytest.raises(ValueError, match="k >= 1"):
        vae_importance_weighted_bound(vae, x, 0, torch.Generator())


def test_the_vae_runs_final_metrics_carry_the_bound(tmp_path):
    torch.set_num_threads(1)
    cfg_overrides = [
        "train.steps=20",
        "log.every=10",
        "log.eval_every=20",
        "log.eval_samples=200",
        "log.final_samples=500",
        "vae.iwae_samples=50",
        "vae.iwae_examples=300",
    ]
    cfg = config_mod.resolve("vae-ring-8", overrides=cfg_overrides)
    run = api.train(cfg, tmp_path / "run", progress=False)
    final = api.load_run(run).evaluate()
    assert {"iwae_k1", "iwae_k50"} <= set(final)
    assert final["iwae_k1"] <= final["iwae_k50"]
    off = config_mod.resolve(
        "vae-ring-8",
        overrides=[o for o in cfg_overrides if "iwae" not in o] + ["vae.iwae_samples=0"],
    )
    final_off = api.load_run(api.train(off, tmp_path / "off", progress=False)).evaluate()
    assert not any(key.startswith("iwae_") for key in final_off)
