"""Algorithm 1 of Goodfellow et al. (2014), pinned where the loop lives (`gankit.train`).

Per iteration: k = ``game.d_steps`` discriminator updates, each on a fresh real minibatch and a
fresh latent batch, then exactly one generator update on a fresh latent batch; the learning
rates follow the schedule, a pure function of the step, with values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gankit import config as config_mod
from gankit.data.sources import build_data
from gankit.recipes.gan import build_checked_models, gan_loop
from gankit.train.schedules import lr_factor


def make_trainer(tmp_path, overrides=()):
    cfg = config_mod.resolve(
        preset="gaussian-1d",
        overrides=["train.steps=100", "train.batch_size=16", "model.ema=0", *overrides],
    )
    data = build_data(cfg)
    torch.manual_seed(0)
    g, d = build_checked_models(cfg, data)
    return gan_loop(cfg, data.source, g, d, tmp_path, torch.device("cpu"))


def record_updates(trainer) -> list[str]:
    """Wraps both optimizers' ``step`` and the source's ``batch`` to record the order."""
    events: list[str] = []
    gan = trainer.trainable
    for name, opt in (("D", gan.opt_d), ("G", gan.opt_g)):
        original = opt.step

        def step(*args, _name=name, _original=original, **kwargs):
            events.append(_name)
            return _original(*args, **kwargs)

        opt.step = step
    batch = gan.source.batch

    def counted(n, generator):
        events.append("real")
        return batch(n, generator)

    gan.source.batch = counted
    return events


@pytest.mark.parametrize("k", [1, 3, 5])
def test_k_discriminator_updates_then_one_generator_update(tmp_path, k):
    trainer = make_trainer(tmp_path, [f"game.d_steps={k}"])
    events = record_updates(trainer)
    iterations = 4
    for _ in range(iterations):
        trainer.train_step(log=False)
    one = ["real", "D"] * k + ["G"]
    assert events == one * iterations
    assert trainer.step == iterations


@pytest.mark.parametrize("k", [1, 3, 5])
def test_each_update_reads_fresh_latents(tmp_path, k):
    """k latent batches for D, one for G, per iteration: the noise stream advances k + 1 draws."""
    trainer = make_trainer(tmp_path, [f"game.d_steps={k}"])
    calls = []
    latent = trainer.trainable.latent
    trainer.trainable.latent = lambda n: calls.append(n) or latent(n)
    trainer.train_step(log=False)
    assert calls == [16] * (k + 1)


def test_the_discriminator_sees_the_generator_of_this_iteration(tmp_path):
    """G is updated only after its k D-steps: D's steps of iteration t see G_t, not G_{t+1}."""
    trainer = make_trainer(tmp_path, ["game.d_steps=3"])
    gan = trainer.trainable
    before = [p.detach().clone() for p in gan.G.parameters()]
    seen = []
    original = gan.discriminator_loss

    def spy(m):
        seen.append(all(torch.equal(a, b) for a, b in zip(before, gan.G.parameters())))
        return original(m)

    gan.discriminator_loss = spy
    trainer.train_step(log=False)
    assert seen == [True, True, True]
    assert not all(torch.equal(a, b) for a, b in zip(before, gan.G.parameters()))


# -------------------------------------------------------------------- schedules, by hand

HAND = [
    # (schedule, total, warmup, step, factor worked out by hand)
    ("constant", 100, 0, 0, 1.0),
    ("constant", 100, 0, 99, 1.0),
    ("linear", 100, 0, 0, 1.0),
    ("linear", 100, 0, 25, 0.75),
    ("linear", 100, 0, 50, 0.5),
    ("linear", 100, 0, 100, 0.0),
    ("cosine", 100, 0, 0, 1.0),
    ("cosine", 100, 0, 25, 0.5 * (1 + math.sqrt(0.5))),  # (1 + cos(pi/4)) / 2
    ("cosine", 100, 0, 50, 0.5),
    ("cosine", 100, 0, 75, 0.5 * (1 - math.sqrt(0.5))),
    ("cosine", 100, 0, 100, 0.0),
    ("constant", 110, 10, 0, 0.1),  # warm-up: (step + 1) / warmup
    ("constant", 110, 10, 4, 0.5),
    ("constant", 110, 10, 9, 1.0),
    ("cosine", 110, 10, 4, 0.5),  # warm-up times cos at progress 0
    ("cosine", 110, 10, 60, 0.5),  # progress (60 - 10) / 100 = 0.5
    ("cosine", 110, 10, 35, 0.5 * (1 + math.sqrt(0.5))),  # progress 0.25
    ("linear", 110, 10, 85, 0.25),  # progress 0.75
]


@pytest.mark.parametrize(("schedule", "total", "warmup", "step", "factor"), HAND)
def test_lr_factor_by_hand(schedule, total, warmup, step, factor):
    assert lr_factor(step, total, schedule, warmup) == pytest.approx(factor, abs=1e-12)


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine"])
def test_the_optimizers_receive_the_scheduled_rates(tmp_path, schedule):
    """What the optimizers hold at each step of a real fit (and what is logged) is the base
    rate times the factor at that 0-based step, for D and G with their own base rates."""
    trainer = make_trainer(
        tmp_path,
        [
            f"optim.schedule='{schedule}'",
            "optim.warmup=10",
            "optim.lr_d=0.002",
            "optim.lr_g=0.0005",
            "train.steps=110",
            "log.every=1",
        ],
    )
    seen = {}
    gan = trainer.trainable
    original = gan.opt_g.step

    def step(*args, **kwargs):
        seen[trainer.step] = (
            gan.opt_d.param_groups[0]["lr"],
            gan.opt_g.param_groups[0]["lr"],
        )
        return original(*args, **kwargs)

    gan.opt_g.step = step
    rows = []
    for _ in range(110):
        rows.append(trainer.train_step(log=True))
    for s in (0, 4, 9, 35, 60, 85, 109):
        f = lr_factor(s, 110, schedule, 10)
        assert seen[s] == pytest.approx((0.002 * f, 0.0005 * f), rel=1e-12)
        assert (rows[s]["lr_d"], rows[s]["lr_g"]) == pytest.approx(seen[s], rel=1e-12)
    hand = {row[3]: row[4] for row in HAND if row[0] == schedule and row[1:3] == (110, 10)}
    for s, factor in hand.items():
        assert seen[s][1] == pytest.approx(0.0005 * factor, rel=1e-12)


def test_a_bent_cosine_is_caught():
    """The hand values above reject a cosine bent by a little (the reviewer's mutation)."""

    def bent(step, total, warmup):
        p = min(max(step - warmup, 0) / max(total - warmup, 1), 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * p**1.05))

    cosine = [(t, w, s, f) for name, t, w, s, f in HAND if name == "cosine" and w == 0]
    assert any(abs(bent(s, t, w) - f) > 1e-3 for t, w, s, f in cosine)


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_factor(0, 10, "exponential", 0)
