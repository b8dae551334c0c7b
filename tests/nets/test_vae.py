"""The VAE's nets (`gankit.nets.vae`): shapes by image size and channels, the units at each end
(Bernoulli targets in [0, 1], samples in [-1, 1]), randomness only from the passed generator,
refusals naming the ``[vae]`` keys, the ELBO of a tiny hand-set model worked out by hand, and a
short fit; the objective itself is `gankit.game.elbo` (tested in tests/game/test_elbo.py)."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch
from torch import nn

import gankit.nets.vae as vae_module
from gankit.errors import GankitError
from gankit.game.elbo import (
    LOG_2PI,
    bernoulli_log_likelihood,
    elbo,
    gaussian_kl,
    gaussian_log_likelihood,
    negative_elbo_loss,
)
from gankit.nets.vae import VAE, build_vae, conv_vae, from_unit, mlp_vae, to_unit

CONV = {"latent_dim": 4, "width": 8, "depth": 0, "activation": "relu"}
MLP = {"latent_dim": 2, "width": 16, "depth": 2, "activation": "relu", "likelihood": "gaussian"}


def _images(n, c, s, seed=0):
    return torch.rand(n, c, s, s, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(("size", "doublings"), [(8, 1), (28, 2), (32, 3)])
def test_conv_vae_shapes(size, doublings, channels, likelihood):
    vae = build_vae("conv", (channels, size, size), likelihood=likelihood, **CONV)
    assert (vae.latent_dim, vae.likelihood, vae.data_shape) == (
        4,
        likelihood,
        (channels, size, size),
    )
    strided = [m for m in vae.encoder.modules() if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == doublings  # the DCGAN layout: 8 -> 1, 28 -> 2, 32 -> 3
    x = _images(5, channels, size)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (5, 4)
    z = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert vae.decode(z).shape == x.shape
    z_k = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(0), samples=3)
    assert vae.decode(z_k).shape == (3, *x.shape)  # k samples per point, for the IWAE bound
    out = vae.sample(6, torch.Generator().manual_seed(0))
    assert out.shape == (6, channels, size, size)
    assert out.min() >= -1 and out.max() <= 1
    if likelihood == "gaussian":
        assert vae.log_scale.shape == (channels, size, size)
    else:
        assert vae.log_scale is None


def test_conv_vae_depth_adds_same_size_layers():
    shallow = conv_vae(1, 28, likelihood="bernoulli", **CONV)
    deep = conv_vae(1, 28, likelihood="bernoulli", **{**CONV, "depth": 2})
    same = [m for m in deep.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(same) == 2 * 2 * 2  # 2 per resolution, 2 resolutions, encoder and decoder
    x = _images(2, 1, 28)
    assert deep.decode(deep.encode(x)[0]).shape == shallow.decode(shallow.encode(x)[0]).shape


def test_mlp_vae_shapes_and_standardised_units():
    vae = build_vae("mlp", 2, **MLP)
    points = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0)) * 10 + 5
    vae.standardize.fit(points)
    mu, logvar = vae.encode(points[:7])
    assert mu.shape == logvar.shape == (7, 2)
    # the decoder's mean is in data units and its log-scale is learned in standard units
    torch.testing.assert_close(vae.log_scale, vae.standardize.scale.log())
    body = vae.decoder(mu)
    torch.testing.assert_close(vae.decode(mu), body * vae.standardize.scale + vae.standardize.shift)
    assert vae.sample(9, torch.Generator().manual_seed(1)).shape == (9, 2)
    assert vae.decode(torch.zeros(4, 7, 2)).shape == (4, 7, 2)


def test_log_scale_is_floored():
    vae = mlp_vae(2, **{k: v for k, v in MLP.items()})
    with torch.no_grad():
        vae.raw_log_scale.fill_(-50.0)
    assert (vae.log_scale == vae_module.MIN_LOG_SCALE).all()


def test_state_dict_round_trip():
    a = build_vae("mlp", 3, **MLP)
    a.standardize.fit(torch.randn(100, 3) * 4)
    b = build_vae("mlp", 3, **MLP)
    b.load_state_dict(a.state_dict())  # strict: buffers and the log-scale included
    g = torch.Generator()
    torch.testing.assert_close(a.sample(5, g.manual_seed(3)), b.sample(5, g.manual_seed(3)))


# --- units ------------------------------------------------------------------------------------


def test_unit_maps_and_targets():
    x = torch.tensor([-1.0, 0.0, 1.0])
    torch.testing.assert_close(to_unit(x), torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(from_unit(to_unit(x)), x)
    images = _images(3, 1, 8)
    bernoulli = conv_vae(1, 8, likelihood="bernoulli", **CONV)
    gaussian = conv_vae(1, 8, likelihood="gaussian", **CONV)
    torch.testing.assert_close(bernoulli.target(images), (images + 1) / 2)
    assert gaussian.target(images) is images


def test_sample_is_the_decoders_mean_in_the_nets_convention():
    vae = conv_vae(1, 8, likelihood="bernoulli", **CONV)
    out = vae.sample(4, torch.Generator().manual_seed(5))
    z = torch.randn(4, 4, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(out, 2 * torch.sigmoid(vae.decode(z)) - 1)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_sample_stays_in_range_when_the_decoder_saturates(likelihood):
    vae = conv_vae(3, 8, likelihood=likelihood, **CONV)
    with torch.no_grad():
        for p in vae.decoder.parameters():
            p.mul_(1000.0)
    out = vae.sample(16, torch.Generator().manual_seed(0))
    assert out.min() >= -1 and out.max() <= 1
    assert (out.abs() == 1).any()  # saturated: the clamp (Gaussian) or the sigmoid's ends


# --- randomness -------------------------------------------------------------------------------


def test_reparameterize_draws_from_the_generator_only():
    mu = torch.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, math.log(4.0)], [-2.0, 1.0]], requires_grad=True)
    state = torch.get_rng_state()
    z = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(11))
    assert torch.equal(torch.get_rng_state(), state)
    eps = torch.randn(2, 2, generator=torch.Generator().manual_seed(11))
    torch.testing.assert_close(z, mu + (0.5 * logvar).exp() * eps)
    z.sum().backward()  # differentiable in both parameters
    torch.testing.assert_close(mu.grad, torch.ones(2, 2))
    torch.testing.assert_close(logvar.grad, 0.5 * (0.5 * logvar).exp().detach() * eps)
    again = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(11))
    other = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(12))
    assert torch.equal(z, again) and not torch.equal(z, other)
    k = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(11), samples=5)
    assert k.shape == (5, 2, 2)
    eps_k = torch.randn(5, 2, 2, generator=torch.Generator().manual_seed(11))
    torch.testing.assert_close(k, mu + (0.5 * logvar).exp() * eps_k)
    double = VAE.reparameterize(mu.double(), logvar.double(), torch.Generator())
    assert double.dtype == torch.float64


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_sample_is_determined_by_its_generator(kind):
    vae = (
        build_vae("mlp", 2, **MLP)
        if kind == "mlp"
        else conv_vae(1, 8, likelihood="bernoulli", **CONV)
    )
    state = torch.get_rng_state()
    a = vae.sample(8, torch.Generator().manual_seed(0))
    b = vae.sample(8, torch.Generator().manual_seed(0))
    c = vae.sample(8, torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b) and not torch.equal(a, c)
    # a restored generator continues the same stream (exact resume)
    g = torch.Generator().manual_seed(4)
    vae.sample(3, g)
    saved = g.get_state()
    first = vae.sample(3, g)
    g.set_state(saved)
    assert torch.equal(vae.sample(3, g), first)
    assert not a.requires_grad


# --- refusals ---------------------------------------------------------------------------------

GOOD = {"latent_dim": 4, "width": 8, "depth": 1, "likelihood": "bernoulli", "activation": "relu"}


@pytest.mark.parametrize(
    ("kind", "shape", "change", "key"),
    [
        ("conv", (1, 8, 8), {"likelihood": "poisson"}, "vae.likelihood"),
        ("mlp", 2, {"likelihood": "bernoulli"}, "vae.likelihood"),
        ("conv", (1, 8, 8), {"latent_dim": 0}, "vae.latent_dim"),
        ("conv", (1, 8, 8), {"latent_dim": True}, "vae.latent_dim"),
        ("mlp", 2, {"likelihood": "gaussian", "latent_dim": 2.0}, "vae.latent_dim"),
        ("conv", (1, 8, 8), {"width": 0}, "vae.width"),
        ("mlp", 2, {"likelihood": "gaussian", "depth": -1}, "vae.depth"),
        ("conv", (1, 8, 8), {"activation": "swish"}, "vae.activation"),
        ("conv", (1, 30, 30), {}, "data.image_size"),
        ("conv", (1, 28, 32), {}, "data.image_size"),
        ("conv", 2, {}, "images"),
        ("mlp", (1, 8, 8), {"likelihood": "gaussian"}, "points"),
        ("rnn", 2, {}, "kind"),
    ],
)
def test_bad_combinations_are_refused_naming_the_key(kind, shape, change, key):
    with pytest.raises(GankitError, match=key):
        build_vae(kind, shape, **{**GOOD, **change})


def test_bad_inputs_are_refused():
    vae = conv_vae(1, 8, likelihood="bernoulli", **CONV)
    with pytest.raises(ValueError, match="encodes"):
        vae.encode(_images(2, 3, 8))
    with pytest.raises(ValueError, match="decodes"):
        vae.decode(torch.zeros(2, 5))


def test_nets_do_not_import_the_game():
    tree = ast.parse(Path(vae_module.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    assert names and not [n for n in names if n.startswith("gankit.game")]


# --- the ELBO of a tiny model, by hand --------------------------------------------------------


def test_elbo_of_a_hand_set_model():
    # latent 1-D, data 2-D, linear encoder and decoder (depth 0), standardisation off
    vae = mlp_vae(2, latent_dim=1, width=1, depth=0, activation="relu")
    with torch.no_grad():
        enc, dec = vae.encoder.net[0], vae.decoder.net[0]
        enc.weight.copy_(torch.tensor([[0.5, -1.0], [0.0, 0.0]]))  # mu = 0.5 x1 - x2 + 0.1
        enc.bias.copy_(torch.tensor([0.1, math.log(0.25)]))  # logvar = log 1/4: sigma = 1/2
        dec.weight.copy_(torch.tensor([[2.0], [-1.0]]))  # mean = (2 z, 1 - z)
        dec.bias.copy_(torch.tensor([0.0, 1.0]))
        vae.raw_log_scale.copy_(torch.tensor([0.0, math.log(0.5)]))  # scales (1, 1/2)
    x = torch.tensor([[1.0, 2.0]])
    eps = torch.randn(1, 1, generator=torch.Generator().manual_seed(7)).item()

    mu = 0.5 * 1.0 - 2.0 + 0.1  # -1.4
    z = mu + 0.5 * eps
    m1, m2 = 2.0 * z, 1.0 - z
    log_lik = (-0.5 * LOG_2PI - 0.0 - 0.5 * (1.0 - m1) ** 2) + (
        -0.5 * LOG_2PI - math.log(0.5) - 0.5 * ((2.0 - m2) / 0.5) ** 2
    )
    kl = 0.5 * (mu**2 + 0.25 - 1.0 - math.log(0.25))
    expected = log_lik - kl

    mu_t, logvar_t = vae.encode(x)
    z_t = vae.reparameterize(mu_t, logvar_t, torch.Generator().manual_seed(7))
    got = elbo(
        gaussian_log_likelihood(vae.decode(z_t), vae.log_scale, vae.target(x)),
        gaussian_kl(mu_t, logvar_t),
    )
    assert got.shape == (1,)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_bernoulli_elbo_reads_unit_targets():
    # a decoder with zero logits gives log 1/2 per pixel, whatever the target in [0, 1]
    vae = conv_vae(1, 8, likelihood="bernoulli", **CONV)
    with torch.no_grad():
        for p in vae.decoder.parameters():
            p.zero_()
    x = _images(3, 1, 8)
    z = torch.zeros(3, 4)
    log_lik = bernoulli_log_likelihood(vae.decode(z), vae.target(x))
    torch.testing.assert_close(log_lik, torch.full((3,), 64 * math.log(0.5)))


# --- it learns --------------------------------------------------------------------------------


def test_a_short_fit_reaches_the_entropy_of_the_data():
    # x = e A + 3, e ~ N(0, I): cov [[6.25, 0.45], [0.45, 0.09]], det 0.36; a 1-D latent with a
    # diagonal Gaussian decoder (factor analysis) can fit it exactly, and E[-ELBO] >= H(data)
    entropy = math.log(2 * math.pi * math.e) + 0.5 * math.log(0.36)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = torch.randn(512, 2, generator=g) @ torch.tensor([[2.0, 0.0], [1.5, 0.3]]) + 3.0
    vae = mlp_vae(2, latent_dim=1, width=32, depth=1, activation="relu")
    vae.standardize.fit(data)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-2)

    def loss():
        mu, logvar = vae.encode(data)
        z = vae.reparameterize(mu, logvar, g)
        log_lik = gaussian_log_likelihood(vae.decode(z), vae.log_scale, vae.target(data))
        return negative_elbo_loss(log_lik, gaussian_kl(mu, logvar))

    with torch.no_grad():
        start = sum(loss().item() for _ in range(10)) / 10
    for _ in range(300):
        opt.zero_grad()
        loss().backward()
        opt.step()
    with torch.no_grad():
        end = sum(loss().item() for _ in range(10)) / 10
    assert end < start - 0.2
    assert abs(end - entropy) < 0.15  # 512 points: the empirical entropy's std is ~0.05


def test_conv_vae_trains_end_to_end():
    vae = conv_vae(1, 28, likelihood="bernoulli", **CONV)
    x = _images(4, 1, 28)
    mu, logvar = vae.encode(x)
    z = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    log_lik = bernoulli_log_likelihood(vae.decode(z), vae.target(x))
    negative_elbo_loss(log_lik, gaussian_kl(mu, logvar)).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in vae.parameters())
