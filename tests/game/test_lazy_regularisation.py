"""Lazy regularisation (Karras et al. 2020, StyleGAN2 sec. B): ``game.penalty_every = N`` applies
the penalties on every N-th D update only, with their weights times N, so that on average the
regulariser pulls as hard as before at 1/N of its cost."""

from __future__ import annotations

import torch

from gankit import config as config_mod
from gankit.data.batch import Batch
from gankit.game.game import Game
from gankit.game.penalties import get_penalty


def _d():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def _game(every: int) -> Game:
    cfg = config_mod.resolve(
        preset="ring-8", overrides=["game.penalties={ r1 = 3.0 }", f"game.penalty_every={every}"]
    )
    return Game(cfg.game, generator=torch.Generator().manual_seed(0), model=cfg.model)


def _batches():
    g = torch.Generator().manual_seed(1)
    return Batch(torch.randn(16, 2, generator=g)), Batch(torch.randn(16, 2, generator=g))


def test_every_update_is_the_eager_penalty():
    """penalty_every = 1 is the penalty on every update, the same numbers to the bit."""
    d, (real, fake) = _d(), _batches()
    lazy = _game(1)
    for update in range(3):
        loss, stats = lazy.discriminator_loss(d, real, fake, update)
        eager_loss, eager_stats = _game(1).discriminator_loss(d, real, fake)
        assert torch.equal(loss, eager_loss) and "penalty_r1" in stats
        assert torch.equal(stats["penalty_r1"], eager_stats["penalty_r1"])


def test_every_fourth_update_carries_four_times_the_weight():
    d, (real, fake) = _d(), _batches()
    lazy, plain = _game(4), Game(config_mod.resolve(preset="ring-8").game)
    adversarial, _ = plain.discriminator_loss(d, real, fake)
    r1 = get_penalty("r1").fn(d, real.x.requires_grad_(True), fake.x, None)
    for update in range(9):
        loss, stats = lazy.discriminator_loss(d, real, fake, update)
        if update % 4 == 0:
            assert torch.allclose(loss, adversarial + 4 * 3.0 * r1, rtol=1e-6)
            assert "penalty_r1" in stats
        else:
            assert torch.allclose(loss, adversarial, rtol=1e-7)
            assert "penalty_r1" not in stats


def test_a_gan_run_counts_its_d_updates_across_steps(tmp_path):
    """With k = 2 D-steps per G-step and N = 3, the GAN's trainable asks for the penalty on
    updates 0, 3, 6, ... of the run: a function of the step, so a resumed run is exact."""
    from gankit.data.sources import build_data
    from gankit.recipes.gan import build_checked_models, gan_loop

    cfg = config_mod.resolve(
        preset="ring-8",
        overrides=[
            "game.penalties={ r1 = 1.0 }",
            "game.penalty_every=3",
            "game.d_steps=2",
            "train.batch_size=16",
        ],
    )
    data = build_data(cfg)
    g, d = build_checked_models(cfg, data)
    loop = gan_loop(cfg, data.source, g, d, tmp_path, torch.device("cpu"))
    asked = []
    original = loop.trainable.game.discriminator_loss

    def spy(d_fn, real, fake, d_update=0):
        asked.append(d_update)
        return original(d_fn, real, fake, d_update)

    loop.trainable.game.discriminator_loss = spy
    for _ in range(4):
        loop.train_step(log=False)
    assert asked == list(range(8))
    assert [u for u in asked if loop.trainable.game.penalties_due(u)] == [0, 3, 6]
