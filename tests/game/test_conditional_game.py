"""The game with a class-conditional D: each side's images are scored with their own classes
(real labels, the classes G was asked for), in the losses, through DiffAugment and in the
penalties that read one side; what reads D between the sides is refused, naming the key."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gankit.config import GameConfig, ModelConfig
from gankit.data.batch import Batch
from gankit.errors import GankitError
from gankit.game.augment import DiffAugment
from gankit.game.game import Game
from gankit.nets.dcgan import DCGANDiscriminator

CONDITIONAL = ModelConfig(arch="dcgan", conditional=True)


def _sides(seed: int = 0):
    torch.manual_seed(seed)
    d = DCGANDiscriminator(1, 8, width=8, classes=3).eval()  # eval: scores independent of batch
    real = Batch(torch.randn(6, 1, 8, 8), y=torch.tensor([0, 1, 2, 0, 1, 2]))
    fake = Batch(torch.randn(6, 1, 8, 8), y=torch.tensor([2, 2, 1, 1, 0, 0]))
    return d, real, fake


def test_d_and_g_losses_score_each_side_with_its_own_classes():
    d, real, fake = _sides()
    game = Game(GameConfig(loss="nonsaturating"), model=CONDITIONAL)
    loss, stats = game.discriminator_loss(d, real, fake)
    s_real, s_fake = d(real.x, real.y).reshape(-1), d(fake.x, fake.y).reshape(-1)
    by_hand = F.softplus(-s_real).mean() + F.softplus(s_fake).mean()
    assert torch.allclose(loss, by_hand, atol=1e-6)
    assert torch.allclose(stats["d_real"], torch.sigmoid(s_real).mean(), atol=1e-6)
    g_loss, _ = game.generator_loss(d, fake)
    assert torch.allclose(g_loss, F.softplus(-s_fake).mean(), atol=1e-6)
    # the classes matter: the same images with the sides' classes swapped score otherwise
    swapped, _ = game.discriminator_loss(d, real, Batch(fake.x, y=real.y))
    assert not torch.allclose(loss, swapped)


def test_augmented_conditional_d_reads_the_transformed_images_with_their_classes():
    d, real, fake = _sides(1)
    config = GameConfig(loss="hinge", augment="translation")
    game = Game(config, generator=torch.Generator().manual_seed(5), model=CONDITIONAL)
    loss, _ = game.discriminator_loss(d, real, fake)
    augment = DiffAugment("translation", torch.Generator().manual_seed(5))
    s_real = d(augment(real.x), real.y).reshape(-1)  # the game reads real first, then fake
    s_fake = d(augment(fake.x), fake.y).reshape(-1)
    by_hand = F.relu(1 - s_real).mean() + F.relu(1 + s_fake).mean()
    assert torch.allclose(loss, by_hand, atol=1e-6)


@pytest.mark.parametrize("name", ["r1", "r2"])
def test_one_sided_penalties_differentiate_d_at_that_side_with_its_classes(name):
    d, real, fake = _sides(2)
    game = Game(GameConfig(loss="nonsaturating", penalties={name: 1.0}), model=CONDITIONAL)
    _, stats = game.discriminator_loss(d, real, fake)
    side = real if name == "r1" else fake
    x = side.x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x, side.y).sum(), x)
    by_hand = grad.flatten(1).pow(2).sum(1).mean()
    assert torch.allclose(stats[f"penalty_{name}"], by_hand, atol=1e-6)


@pytest.mark.parametrize(
    "config,key",
    [
        (GameConfig(loss="wasserstein", penalties={"gp": 10.0}), "game.penalties.gp"),
        (GameConfig(loss="nonsaturating", penalties={"roth": 1.0}), "game.penalties.roth"),
        (GameConfig(loss="nonsaturating", unroll=2), "game.unroll"),
    ],
)
def test_what_reads_d_across_the_sides_is_refused_naming_the_key(config, key):
    with pytest.raises(GankitError, match=key):
        Game(config, model=CONDITIONAL)


def test_a_batch_without_classes_is_refused():
    d, real, fake = _sides()
    game = Game(GameConfig(), model=CONDITIONAL)
    with pytest.raises(ValueError, match="without its class labels"):
        game.discriminator_loss(d, Batch(real.x), fake)


def test_unconditional_game_ignores_labels_riding_along():
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 8, width=8).eval()
    _, real, fake = _sides()
    game = Game(GameConfig(), model=ModelConfig(arch="dcgan"))
    with_labels, _ = game.discriminator_loss(d, real, fake)
    without, _ = game.discriminator_loss(d, Batch(real.x), Batch(fake.x))
    assert torch.equal(with_labels, without)
