"""Penalties and weight clipping on critics whose gradients are known in closed form."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.config import GameConfig
from gankit.errors import GankitError
from gankit.game.game import Game
from gankit.game.penalties import (
    PENALTIES,
    clip_weights,
    get_penalty,
    gradient_penalty,
    r1_penalty,
    r2_penalty,
    register_penalty,
)


def _linear(w, b=0.3):
    d = nn.Linear(w.numel(), 1).double()
    with torch.no_grad():
        d.weight.copy_(w.reshape(1, -1))
        d.bias.fill_(b)
    return d


def _batches(dim, n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, dim, generator=g, dtype=torch.float64),
        torch.randn(n, dim, generator=g, dtype=torch.float64) + 2.0,
    )


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_gradient_penalty_is_zero_for_unit_norm_linear_critic(dim):
    w = torch.randn(dim, dtype=torch.float64, generator=torch.Generator().manual_seed(dim))
    w = w / w.norm()
    real, fake = _batches(dim)
    gp = gradient_penalty(_linear(w), real, fake, torch.Generator().manual_seed(1))
    assert float(gp.detach()) == pytest.approx(0.0, abs=1e-20)


def test_gradient_penalty_of_scaled_linear_critic():
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)  # ||w|| = 5 -> (5 - 1)^2 = 16
    real, fake = _batches(2)
    assert float(gradient_penalty(_linear(w), real, fake).detach()) == pytest.approx(16.0)
    # a plain closure works as well as a module
    f = lambda x: x @ w  # noqa: E731
    assert float(gradient_penalty(f, real, fake)) == pytest.approx(16.0)


def test_gradient_penalty_is_differentiable_wrt_critic():
    d = _linear(torch.tensor([3.0, 4.0], dtype=torch.float64))
    real, fake = _batches(2)
    gp = gradient_penalty(d, real, fake)
    (grad_w,) = torch.autograd.grad(gp, d.weight)
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * w / 5
    assert torch.allclose(grad_w, torch.tensor([[4.8, 6.4]], dtype=torch.float64))


@pytest.mark.parametrize("w", [[0.5], [3.0, -4.0], [1.0, 2.0, 2.0]])
def test_r1_and_r2_equal_squared_norm_for_linear_critic(w):
    w = torch.tensor(w, dtype=torch.float64)
    real, fake = _batches(w.numel())
    d = _linear(w)
    assert float(r1_penalty(d, real, fake).detach()) == pytest.approx(float((w @ w).detach()))
    assert float(r2_penalty(d, real, fake).detach()) == pytest.approx(float((w @ w).detach()))


def test_r1_reads_real_and_r2_reads_fake():
    # D(x) = x^2 / 2 (1-D): grad = x, so R1 = E[real^2], R2 = E[fake^2]
    d = lambda x: 0.5 * (x**2).sum(1)  # noqa: E731
    real = torch.tensor([[1.0], [3.0]], dtype=torch.float64)
    fake = torch.tensor([[2.0], [0.0]], dtype=torch.float64)
    assert float(r1_penalty(d, real, fake).detach()) == pytest.approx(5.0)
    assert float(r2_penalty(d, real, fake).detach()) == pytest.approx(2.0)


def test_clip_weights_clamps_every_parameter():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(10)
    before = [p.detach().clone() for p in net.parameters()]
    clip_weights(net, 0.05)
    for b, p in zip(before, net.parameters()):
        assert p.abs().max() <= 0.05
        assert torch.equal(p, b.clamp(-0.05, 0.05))
        assert not p.requires_grad or p.grad is None


def test_registry():
    assert {"gp", "r1", "r2"} <= set(PENALTIES)
    assert get_penalty("gp").fn is gradient_penalty
    with pytest.raises(ValueError, match="unknown penalty"):
        get_penalty("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_penalty("r1", r1_penalty, "dup")


def test_game_adds_weighted_penalty_and_clips_only_wasserstein_without_gp():
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    real, fake = _batches(2)
    d = _linear(w)
    plain, _ = Game(GameConfig(loss="hinge")).discriminator_loss(d, real, fake)
    total, stats = Game(GameConfig(loss="hinge", penalties={"r1": 2.0})).discriminator_loss(
        d, real, fake
    )
    assert float(stats["penalty_r1"]) == pytest.approx(25.0)
    assert float(total.detach()) == pytest.approx(float(plain.detach()) + 50.0)
    assert Game(GameConfig(loss="wasserstein")).clip == 0.01
    assert Game(GameConfig(loss="wasserstein", penalties={"gp": 10.0})).clip is None
    assert Game(GameConfig(loss="hinge")).clip is None
    with pytest.raises(GankitError, match="game.penalties.nope"):
        Game(GameConfig(penalties={"nope": 1.0}))
    with pytest.raises(GankitError, match="game.penalties.gp"):
        Game(GameConfig(penalties={"gp": -1.0}))
