"""Roth et al. (2017) JS-GAN regulariser against its formula on critics with known gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gankit.config import GameConfig
from gankit.errors import GankitError
from gankit.game.game import Game
from gankit.game.penalties import get_penalty, roth_penalty

points = st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=2, max_size=12)


def _sig(s):
    return 1.0 / (1.0 + np.exp(-s))


def _t(xs):
    return torch.tensor(xs, dtype=torch.float64).reshape(-1, 1)


def test_hand_value_for_a_linear_critic_at_its_boundary():
    # s(x) = 3 x1 + 4 x2: ||grad s||^2 = 25; at x = 0, D = 1/2: 25/4 on each side
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    zero = torch.zeros(3, 2, dtype=torch.float64)
    assert float(roth_penalty(lambda x: x @ w, zero, zero).detach()) == pytest.approx(
        12.5, rel=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(real=points, fake=points, c=st.floats(-2.0, 2.0))
def test_quadratic_logit_matches_formula(real, fake, c):
    # s(x) = x^2 / 2 + c  ->  ds/dx = x
    def d(x):
        return 0.5 * x.pow(2).sum(1, keepdim=True) + c

    r, f = np.asarray(real), np.asarray(fake)
    expected = np.mean((1 - _sig(r**2 / 2 + c)) ** 2 * r**2) + np.mean(
        _sig(f**2 / 2 + c) ** 2 * f**2
    )
    value = float(roth_penalty(d, _t(real), _t(fake)).detach())
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(real=points, fake=points)
def test_swapping_real_and_fake_with_negated_logits_is_symmetric(real, fake):
    # 1 - sigmoid(s) = sigmoid(-s): Omega(d, P, Q) = Omega(-d, Q, P)
    def d(x):
        return torch.sin(x).sum(1, keepdim=True) + 0.3 * x.sum(1, keepdim=True)

    def neg(x):
        return -d(x)

    a = float(roth_penalty(d, _t(real), _t(fake)).detach())
    b = float(roth_penalty(neg, _t(fake), _t(real)).detach())
    assert a == pytest.approx(b, rel=1e-10, abs=1e-14)
    assert a >= 0.0


def test_packed_critic_groups_gradients_by_output():
    # pairs of samples judged jointly: s = w . (x_2i + x_2i+1); each output's input gradient is
    # (w, w), so ||grad||^2 = 2 ||w||^2 = 10 per pack (5 per sample if grouped per sample)
    w = torch.tensor([1.0, 2.0], dtype=torch.float64)

    def d(x):
        return (x.reshape(-1, 2, 2).sum(1) @ w).reshape(-1, 1)

    zero = torch.zeros(4, 2, dtype=torch.float64)
    assert float(roth_penalty(d, zero, zero).detach()) == pytest.approx(2 * 5 * 0.25 * 2, rel=1e-12)


def test_differentiable_in_the_critic_parameters():
    real = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    fake = real + 1.0
    w0 = torch.tensor([0.7, -0.2], dtype=torch.float64, requires_grad=True)

    def omega(w):
        return roth_penalty(lambda x: torch.tanh(x @ w).unsqueeze(1) * 2.0, real, fake)

    assert torch.autograd.gradcheck(omega, (w0,))


def test_registered_sigmoid_only_and_weighted_in_the_game():
    assert get_penalty("roth").fn is roth_penalty and get_penalty("roth").probabilities
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    zero = torch.zeros(3, 2, dtype=torch.float64)
    d = lambda x: (x @ w).unsqueeze(1)  # noqa: E731
    plain, _ = Game(GameConfig(loss="minimax")).discriminator_loss(d, zero, zero)
    total, stats = Game(GameConfig(loss="minimax", penalties={"roth": 0.5})).discriminator_loss(
        d, zero, zero
    )
    assert float(stats["penalty_roth"]) == pytest.approx(12.5)
    assert float(total.detach()) == pytest.approx(float(plain.detach()) + 6.25)
    for loss in ("wasserstein", "hinge", "least-squares"):
        with pytest.raises(GankitError, match=r"game\.penalties\.roth.*sigmoid"):
            Game(GameConfig(loss=loss, penalties={"roth": 1.0}))
