"""Instance noise: the annealing schedule, its units, its random stream, and where it is added."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from gankit.config import GameConfig
from gankit.game.game import Game
from gankit.game.noise import add_instance_noise, instance_noise_std


@pytest.mark.parametrize(
    ("step", "expected"), [(0, 0.5), (1, 0.45), (5, 0.25), (9, 0.05), (10, 0.0), (37, 0.0)]
)
def test_linear_schedule_hand_values(step, expected):
    assert instance_noise_std(step, 0.5, 10) == pytest.approx(expected, abs=1e-15)


@given(step=st.integers(0, 10_000), std=st.floats(0.0, 5.0), steps=st.integers(1, 5000))
def test_schedule_is_monotone_and_bounded(step, std, steps):
    a, b = instance_noise_std(step, std, steps), instance_noise_std(step + 1, std, steps)
    assert 0.0 <= b <= a <= std
    assert instance_noise_std(step, std, 0) == std  # no annealing
    assert instance_noise_std(step, 0.0, steps) == 0.0


def test_game_anneals_over_instance_noise_steps_else_train_steps():
    game = Game(GameConfig(instance_noise=1.0), total_steps=100)
    game.set_step(25)
    assert game.noise_std == pytest.approx(0.75)
    game = Game(GameConfig(instance_noise=1.0, instance_noise_steps=50), total_steps=100)
    game.set_step(25)
    assert game.noise_std == pytest.approx(0.5)
    game.set_step(60)
    assert game.noise_std == 0.0
    assert Game(GameConfig()).noise_std == 0.0


class _Recorder(nn.Module):
    """A D that records its inputs; standard scale (2, 10); score = sum of the inputs."""

    def __init__(self):
        super().__init__()
        self.standardize = nn.Module()
        self.standardize.register_buffer("scale", torch.tensor([2.0, 10.0], dtype=torch.float64))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return x.sum(1, keepdim=True)


def test_noise_in_data_units_from_the_game_stream_on_real_and_fake():
    d = _Recorder()
    real = torch.zeros(4, 2, dtype=torch.float64)
    fake = torch.ones(4, 2, dtype=torch.float64)
    game = Game(GameConfig(instance_noise=0.5), generator=torch.Generator().manual_seed(3))
    game.discriminator_loss(d, real, fake)
    ref = torch.Generator().manual_seed(3)  # drawn in order: real's noise, then fake's
    eps_real = torch.randn(4, 2, generator=ref, dtype=torch.float64)
    eps_fake = torch.randn(4, 2, generator=ref, dtype=torch.float64)
    scale = torch.tensor([2.0, 10.0], dtype=torch.float64)
    assert torch.equal(d.seen[0], real + 0.5 * eps_real * scale)
    assert torch.equal(d.seen[1], fake + 0.5 * eps_fake * scale)


def test_noise_std_per_feature_is_std_times_scale():
    x = torch.zeros(200_000, 2, dtype=torch.float64)
    scale = torch.tensor([2.0, 10.0], dtype=torch.float64)
    noisy = add_instance_noise(x, 0.3, scale, torch.Generator().manual_seed(0))
    assert torch.allclose(noisy.std(0), 0.3 * scale, rtol=0.01)


def test_generator_is_trained_against_the_noisy_input():
    d = _Recorder()
    fake = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    game = Game(GameConfig(loss="wasserstein", instance_noise=1.0), generator=torch.Generator())
    g_loss, _ = game.generator_loss(d, fake)
    (grad,) = torch.autograd.grad(g_loss, fake)
    assert torch.allclose(grad, torch.full_like(grad, -1.0 / 3))  # -mean(sum x): noise additive
    assert not torch.equal(d.seen[0], fake.detach())


def test_off_draws_nothing_and_logs_nothing():
    rng = torch.Generator().manual_seed(5)
    before = rng.get_state()
    d = _Recorder()
    x = torch.ones(2, 2, dtype=torch.float64)
    _, stats = Game(GameConfig(), generator=rng).discriminator_loss(d, x, x)
    assert torch.equal(rng.get_state(), before)
    assert torch.equal(d.seen[0], x) and "instance_noise" not in stats
    game = Game(GameConfig(instance_noise=0.2), generator=rng, total_steps=4)
    game.set_step(1)
    assert float(game.discriminator_loss(d, x, x)[1]["instance_noise"]) == pytest.approx(0.15)
