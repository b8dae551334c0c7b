"""The which-generator term of mixtures (MAD-GAN / MGAN) against a cross-entropy by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gankit.config import GameConfig, ModelConfig
from gankit.errors import GankitError
from gankit.game.game import Game
from gankit.game.terms import generator_labels, identity_loss

M = torch.tensor([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]], dtype=torch.float64)  # (dim=2, k=3)


class _Head(nn.Module):
    """features = x; score = x1 + x2; identity = x M (which-generator logits of 3)."""

    def features(self, x):
        return x

    def score(self, f):
        return f.sum(1, keepdim=True)

    def identity(self, f):
        return f @ M

    def forward(self, x):
        return self.score(self.features(x))


def _ce(logits, labels):
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def test_labels_and_uniform_logits():
    assert generator_labels(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert float(identity_loss(torch.zeros(6, 4), 4)) == pytest.approx(math.log(4))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        identity_loss(torch.zeros(6, 4), 3)


def test_both_players_add_the_weighted_cross_entropy():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(6, 2, generator=g, dtype=torch.float64)
    fake = torch.randn(6, 2, generator=g, dtype=torch.float64)
    labels = np.arange(6) % 3
    ce = _ce((fake @ M).numpy(), labels)
    model = ModelConfig(generators=3)
    game = Game(GameConfig(loss="hinge", diversity=0.4), model=model)
    plain = Game(GameConfig(loss="hinge"), model=model)
    d_loss, stats = game.discriminator_loss(_Head(), real, fake)
    d_plain, _ = plain.discriminator_loss(_Head(), real, fake)
    assert float(stats["diversity_d"]) == pytest.approx(ce, rel=1e-12)
    assert float(d_loss) == pytest.approx(float(d_plain) + 0.4 * ce, rel=1e-12)
    g_loss, g_stats = game.generator_loss(_Head(), fake)
    g_plain, _ = plain.generator_loss(_Head(), fake)
    assert float(g_stats["diversity_g"]) == pytest.approx(ce, rel=1e-12)
    assert float(g_loss) == pytest.approx(float(g_plain) + 0.4 * ce, rel=1e-12)


@pytest.mark.parametrize(
    "model",
    [
        ModelConfig(generators=1),
        ModelConfig(generators=4, pack=2),
        ModelConfig(generators=4, d_input="moments"),
    ],
)
def test_refusals_name_the_key(model):
    with pytest.raises(GankitError, match=r"game\.diversity"):
        Game(GameConfig(diversity=1.0), model=model)


def test_discriminator_without_identity_head_is_refused():
    game = Game(GameConfig(diversity=1.0), model=ModelConfig(generators=2))
    with pytest.raises(GankitError, match=r"game\.diversity.*identity"):
        game.check_discriminator(nn.Linear(2, 1))
    game.check_discriminator(_Head())
