"""Class-conditional nets: the class prior and its stratified and i.i.d. draws, G's one-hot
input, D's projection head (Miyato & Koyama 2018, eq. 3) checked against the formula, the
refusals, and G's sampling path (`generate` asks for the prior's shares)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets.build import build_image_models
from gankit.nets.conditional import (
    ClassPrior,
    class_counts,
    draw_classes,
    stratified_classes,
    with_class_input,
)
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nets.ema import EmaTracker
from gankit.nets.latent import generate, generated_classes, sample_latent


def test_class_counts_by_hand_largest_remainder():
    # quotas 3.5, 2.1, 1.4: floors 3, 2, 1 (6), the one left to the largest remainder (0.5)
    shares = torch.tensor([0.5, 0.3, 0.2])
    assert class_counts(shares, 7).tolist() == [4, 2, 1]
    # quotas 1.5 each: floors 1, 1 and one left, the tie to the lower class
    assert class_counts(torch.tensor([0.5, 0.5]), 3).tolist() == [2, 1]
    assert class_counts(torch.tensor([0.5, 0.5]), 0).tolist() == [0, 0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=12).filter(lambda c: sum(c) > 0),
    st.integers(0, 500),
)
def test_class_counts_sum_to_n_and_stay_within_one_of_the_quota(raw, n):
    shares = torch.tensor(raw, dtype=torch.float64) / sum(raw)
    counts = class_counts(shares, n)
    assert int(counts.sum()) == n
    assert bool(((counts.double() - shares * n).abs() < 1.0).all())
    assert bool((counts[shares == 0] == 0).all())


def test_stratified_classes_spread_each_class_evenly_by_hand():
    # counts 2, 0, 8: class 0 at (j + 1/2) / 2 = 0.25, 0.75; class 2 at 1/16, 3/16, ..., 15/16
    y = stratified_classes(torch.tensor([0.2, 0.0, 0.8]), 10)
    assert y.tolist() == [2, 2, 0, 2, 2, 2, 2, 0, 2, 2]
    assert y.dtype == torch.int64
    # equal counts interleave round-robin, ties to the lower class
    assert stratified_classes(torch.tensor([0.5, 0.5]), 4).tolist() == [0, 1, 0, 1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=2, max_size=10), st.integers(20, 400))
def test_every_prefix_of_the_stratified_classes_is_near_stratified(raw, n):
    shares = torch.tensor(raw, dtype=torch.float64) / sum(raw)
    y = stratified_classes(shares, n)
    counts = class_counts(shares, n)
    assert torch.equal(torch.bincount(y, minlength=len(raw)), counts)
    seen, k = torch.zeros(len(raw), dtype=torch.float64), counts.double()
    for c in y.tolist():
        seen[c] += 1
        # the prefix up to this class-c item reaches position t = (seen_c - 1/2) / k_c; every
        # class spread evenly holds within 1/2 of its share k * t of [0, t] (in class order a
        # class would hold all or none of its k)
        t = (seen[c] - 0.5) / k[c]
        assert bool(((seen - k * t).abs() <= 0.5 + 1e-9).all())


def test_draw_classes_follow_the_shares_and_are_reproducible():
    shares = torch.tensor([0.1, 0.6, 0.3])
    y = draw_classes(shares, 20_000, torch.Generator().manual_seed(0))
    freq = torch.bincount(y, minlength=3).double() / 20_000
    sigma = (shares.double() * (1 - shares.double()) / 20_000).sqrt()
    assert bool(((freq - shares.double()).abs() < 4 * sigma).all())
    again = draw_classes(shares, 20_000, torch.Generator().manual_seed(0))
    assert torch.equal(y, again)


def test_class_prior_from_labels_and_refusals():
    prior = ClassPrior.from_labels([0, 1, 1, 3], classes=4)
    assert prior.shares.tolist() == [0.25, 0.5, 0.0, 0.25]
    assert "shares" in dict(prior.named_buffers())
    assert torch.allclose(ClassPrior(torch.ones(5)).shares, torch.full((5,), 0.2))
    with pytest.raises(ValueError, match="all be 0"):
        ClassPrior(torch.zeros(3))
    with pytest.raises(ValueError, match=">= 0"):
        ClassPrior(torch.tensor([0.5, -0.1]))


def test_with_class_input_appends_the_one_hot():
    z = torch.randn(3, 2)
    out = with_class_input(z, torch.tensor([2, 0, 1]), 3)
    assert torch.equal(out[:, :2], z)
    assert out[:, 2:].tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


def _g(classes=3, size=8, channels=1):
    torch.manual_seed(0)
    return DCGANGenerator(8, channels, size, width=8, class_prior=ClassPrior(torch.ones(classes)))


@pytest.mark.parametrize("size,channels", [(8, 1), (28, 1), (32, 3)])
def test_conditional_generator_shapes_and_first_layer(size, channels):
    g = _g(4, size, channels)
    assert g.net[0].in_channels == 8 + 4
    x = g(torch.randn(5, 8), torch.tensor([0, 1, 2, 3, 0]))
    assert x.shape == (5, channels, size, size)


def test_conditional_generator_reads_the_class():
    g = _g().eval()
    z = torch.randn(1, 8).expand(3, 8)
    x = g(z, torch.tensor([0, 1, 2]))
    assert not torch.allclose(x[0], x[1]) and not torch.allclose(x[1], x[2])
    # the class enters as a one-hot after z, into G's first (linear) layer
    by_hand = g.net(torch.cat([z, torch.eye(3)], 1)[:, :, None, None])
    assert torch.equal(x, by_hand)


def test_generator_refuses_missing_wrong_or_extra_classes():
    g = _g()
    with pytest.raises(ValueError, match="pass its classes"):
        g(torch.randn(2, 8))
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        g(torch.randn(2, 8), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="shape"):
        g(torch.randn(2, 8), torch.tensor([0, 1, 2]))
    plain = DCGANGenerator(8, 1, 8, width=8)
    with pytest.raises(ValueError, match="unconditional"):
        plain(torch.randn(2, 8), torch.tensor([0, 1]))


@pytest.mark.parametrize("spectral", [False, True])
def test_projection_score_matches_the_formula(spectral):
    torch.manual_seed(1)
    d = DCGANDiscriminator(1, 8, width=8, classes=3, spectral_norm=spectral).eval()
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 2, 1, 2])
    f = d.features(x)
    embedding = d.projection.embedding.weight  # spectrally normalised where D is
    expected = d.score_head(f) + (embedding[y] * f).sum(1, keepdim=True)
    assert torch.allclose(d(x, y), expected, atol=1e-6)
    # psi(phi(x)) is shared by the classes; only the projection term tells them apart
    other = d(x, torch.tensor([1, 0, 0, 0]))
    assert not torch.allclose(d(x, y), other)


def test_projection_embedding_is_spectrally_normalised_with_d():
    d = DCGANDiscriminator(1, 8, width=8, classes=3, spectral_norm=True).eval()
    sigma = torch.linalg.matrix_norm(d.projection.embedding.weight.detach(), ord=2)
    # eval mode reuses the power-iteration estimate; a few training forwards converge it
    d.train()
    for _ in range(30):
        d(torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0]))
    d.eval()
    sigma = torch.linalg.matrix_norm(d.projection.embedding.weight.detach(), ord=2)
    assert abs(float(sigma) - 1.0) < 1e-3


def test_projection_d_is_differentiable_twice_for_r1():
    d = DCGANDiscriminator(1, 8, width=8, classes=3)
    x = torch.randn(4, 1, 8, 8, requires_grad=True)
    (grad,) = torch.autograd.grad(d(x, torch.tensor([0, 1, 2, 0])).sum(), x, create_graph=True)
    grad.pow(2).sum().backward()
    assert d.projection.embedding.weight.grad is not None


def test_discriminator_refuses_missing_classes_and_packing():
    d = DCGANDiscriminator(1, 8, width=8, classes=3)
    with pytest.raises(ValueError, match="pass its classes"):
        d(torch.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match="pack must be 1"):
        DCGANDiscriminator(1, 8, width=8, classes=3, pack=2)
    with pytest.raises(ValueError, match="unconditional"):
        DCGANDiscriminator(1, 8, width=8)(torch.randn(2, 1, 8, 8), torch.tensor([0, 1]))


def test_build_image_models_conditional_and_its_refusals():
    model = ModelConfig(arch="dcgan", noise="normal", noise_dim=8, g_width=8, d_width=8)
    model.conditional = True
    prior = ClassPrior(torch.tensor([0.1, 0.9]))
    g, d = build_image_models(model, (1, 8, 8), class_prior=prior)
    assert g.classes == 2 and d.classes == 2
    assert torch.equal(g.class_prior.shares, prior.shares)
    with pytest.raises(GankitError, match="model.conditional needs labelled data"):
        build_image_models(model, (1, 8, 8))
    model.pack = 2
    with pytest.raises(GankitError, match="model.pack = 2"):
        build_image_models(model, (1, 8, 8), class_prior=prior)
    model.pack, model.conditional = 1, False
    g, d = build_image_models(model, (1, 8, 8), class_prior=prior)  # unconditional: no prior
    assert g.classes == 0 and d.classes == 0 and g.class_prior is None


def test_latents_and_generate_ask_for_the_prior_s_classes():
    model = ModelConfig(arch="dcgan", noise="normal", noise_dim=8)
    g = _g(3)
    g.class_prior = ClassPrior(torch.tensor([0.5, 0.25, 0.25]))
    latent = sample_latent(8, model, torch.Generator().manual_seed(0), shares=g.class_prior.shares)
    assert latent.y.shape == (8,) and latent.z.shape == (8, 8)
    plain = sample_latent(8, model, torch.Generator().manual_seed(0))
    assert plain.y is None and torch.equal(plain.z, latent.z)  # classes are drawn after z
    assert generated_classes(g, 8).tolist() == [0, 1, 2, 0, 0, 1, 2, 0]
    assert generated_classes(DCGANGenerator(8, 1, 8, width=8), 8) is None
    # generate asks for exactly those classes: the same images as calling G on them
    x = generate(g, model, 8, torch.Generator().manual_seed(3), batch=3)
    rng, y = torch.Generator().manual_seed(3), generated_classes(g, 8)
    with torch.no_grad():
        g.eval()
        expected = torch.cat(
            [g(torch.randn(len(y[i : i + 3]), 8, generator=rng), y[i : i + 3]) for i in (0, 3, 6)]
        )
    assert torch.allclose(x, expected, atol=1e-6)


def test_ema_keeps_the_class_prior_exactly():
    g = _g(3)
    g.class_prior = ClassPrior(torch.tensor([0.2, 0.3, 0.5]))
    tracker = EmaTracker(g)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(1.0)
    for _ in range(5):
        tracker.update(0.9)
    assert torch.equal(tracker.module.class_prior.shares, g.class_prior.shares)
    assert isinstance(tracker.module.class_prior, nn.Module)
