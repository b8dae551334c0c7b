"""``semi.manifold_weight``: the manifold regulariser of Lecouat et al. (2018) in the
semi-supervised GAN's D phase. D's loss is Salimans et al.'s plus ``weight`` times the mean
squared distance between D's class logits on G(z) and on G(z + eps * r), r a random unit
direction; worked out here from the same streams, with the distance written out."""

from __future__ import annotations

import pytest
import torch

from gankit import config
from gankit.data.sources import build_data
from gankit.nets.latent import sample_latent
from gankit.recipes.semisupervised.labelled import split_labelled
from gankit.recipes.semisupervised.recipe import build_nets
from gankit.recipes.semisupervised.step import SemiSupervisedTrainable
from gankit.train.trainable import source_inputs

SMALL = ["train.batch_size=16", "semi.labelled_batch_size=16", "model.g_width=8", "model.d_width=8"]


def _trainable(*overrides: str) -> SemiSupervisedTrainable:
    torch.manual_seed(0)
    cfg = config.resolve("semi-supervised-digits", overrides=[*SMALL, *overrides])
    data = build_data(cfg)
    d, g = build_nets(cfg, data)
    labelled, unlabelled = split_labelled(data.train, 10, cfg.train.seed)
    inputs = source_inputs(data.source)
    return SemiSupervisedTrainable(
        cfg, data, labelled, unlabelled, d, g, torch.device("cpu"), inputs
    )  # fmt: skip


def test_the_d_loss_adds_the_weighted_distance_of_d_logits_along_g():
    weight, eps = 0.7, 0.5
    plain = _trainable()
    regular = _trainable(f"semi.manifold_weight={weight}", f"semi.manifold_epsilon={eps}")
    for a, b in zip(plain.D.parameters(), regular.D.parameters(), strict=True):
        assert torch.equal(a, b)  # the same nets and streams
    loss_plain, stats_plain = plain.discriminator_loss()
    assert "manifold_penalty" not in stats_plain  # weight 0: nothing drawn, nothing logged
    # the regulariser draws after everything the plain loss draws: the plain run's streams
    # now stand where the regularised run's stand when it draws z and r
    noise, game = plain.rngs["noise"].get_state(), plain.rngs["game"].get_state()
    loss, stats = regular.discriminator_loss()

    streams = {name: torch.Generator().manual_seed(0) for name in ("noise", "game")}
    streams["noise"].set_state(noise)
    streams["game"].set_state(game)
    z = sample_latent(16, regular.cfg.model, streams["noise"]).z
    r = torch.randn(z.shape, generator=streams["game"])
    r = r / r.norm(dim=1, keepdim=True)
    assert torch.allclose(r.norm(dim=1), torch.ones(16))
    with torch.no_grad():
        images = regular.G(torch.cat([z, z + eps * r]))
        logits = regular.D(images)
    distance = ((logits[:16] - logits[16:]) ** 2).sum(dim=1).mean()
    assert distance.item() > 1e-6
    assert stats["manifold_penalty"].item() == pytest.approx(distance.item(), rel=1e-5)
    expected = loss_plain.item() + weight * distance.item()
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert stats["d_loss"].item() == pytest.approx(expected, rel=1e-5)


def test_the_regulariser_trains_d_never_g():
    t = _trainable("semi.manifold_weight=1")
    penalty = t._manifold_penalty(16)
    penalty.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in t.D.parameters())
    assert all(p.grad is None for p in t.G.parameters())


def test_the_baseline_has_no_g_and_ignores_the_key():
    t = _trainable("semi.manifold_weight=1", "semi.adversarial=false")
    loss, stats = t.discriminator_loss()
    assert "manifold_penalty" not in stats
    assert loss.item() == pytest.approx(stats["supervised_loss"].item(), rel=1e-6)
