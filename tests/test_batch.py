"""`Batch` and `Latent`: what flows through the pipeline untouched."""

from __future__ import annotations

import pytest
import torch

from gankit.config import GameConfig
from gankit.data.batch import Batch, Latent
from gankit.game.game import Game
from gankit.nets.mlp import Discriminator


def test_batch_fields_share_their_rows_and_travel_together():
    x, y = torch.randn(4, 2), torch.arange(4)
    b = Batch(x, y=y)
    assert len(b) == 4
    moved = b.to("cpu")
    assert torch.equal(moved.x, x) and torch.equal(moved.y, y)
    noisy = b.with_x(x + 1)
    assert torch.equal(noisy.y, y)
    with pytest.raises(ValueError, match="Batch.y: 3 rows, but x has 4"):
        Batch(x, y=torch.arange(3))


def test_latent_rows():
    lat = Latent(torch.randn(5, 3), y=torch.arange(5))
    assert len(lat) == 5
    with pytest.raises(ValueError, match="Latent.y: 4 rows, but z has 5"):
        Latent(torch.randn(5, 3), y=torch.arange(4))


def test_the_game_reads_a_batch_as_its_tensor():
    """Labels ride along: the losses of Batch(x, y) equal those of the bare tensors."""
    torch.manual_seed(0)
    d = Discriminator(2, 8, 1, "relu")
    game = Game(GameConfig(penalties={"r1": 1.0}), generator=torch.Generator().manual_seed(0))
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    a, _ = game.discriminator_loss(d, real, fake)
    b, _ = game.discriminator_loss(d, Batch(real, y=torch.zeros(8).long()), Batch(fake))
    assert torch.equal(a, b)
    g1, _ = game.generator_loss(d, fake)
    g2, _ = game.generator_loss(d, Batch(fake, y=torch.ones(8).long()))
    assert torch.equal(g1, g2)


def test_the_game_makes_fakes_from_a_latent_keeping_its_class():
    game = Game(GameConfig())
    seen = {}

    class G(torch.nn.Module):
        def forward(self, z, y=None):
            seen["y"] = y
            return z * 2

    lat = Latent(torch.ones(3, 2), y=torch.tensor([0, 1, 2]))
    fake = game.fake(G(), lat)
    assert torch.equal(fake.x, torch.full((3, 2), 2.0)) and torch.equal(fake.y, lat.y)
    assert torch.equal(seen["y"], lat.y)  # a conditional G is asked for the latent's class
