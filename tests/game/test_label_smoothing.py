"""One-sided label smoothing (Salimans et al. 2016) against its formula and its optimal D."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from gankit.config import GameConfig
from gankit.errors import GankitError
from gankit.game.game import Game
from gankit.game.losses import get_loss, label_smoothed_d_loss

scores = st.lists(st.floats(-8.0, 8.0, allow_nan=False), min_size=1, max_size=16)


def _t(xs):
    return torch.tensor(xs, dtype=torch.float64)


@settings(max_examples=40, deadline=None)
@given(real=scores, fake=scores, s=st.floats(0.0, 0.5))
def test_matches_cross_entropy_with_real_target_one_minus_s(real, fake, s):
    r, f = np.asarray(real), np.asarray(fake)
    dr, df = 1 / (1 + np.exp(-r)), 1 / (1 + np.exp(-f))
    expected = -np.mean((1 - s) * np.log(dr) + s * np.log(1 - dr)) - np.mean(np.log(1 - df))
    assert float(label_smoothed_d_loss(_t(real), _t(fake), s)) == pytest.approx(
        expected, rel=1e-9, abs=1e-9
    )


def test_zero_smoothing_is_the_plain_sigmoid_d_loss():
    real, fake = _t([0.3, -1.2, 4.0]), _t([2.0, -0.5])
    plain, _ = get_loss("nonsaturating")(real, fake)
    assert float(label_smoothed_d_loss(real, fake, 0.0)) == pytest.approx(float(plain), rel=1e-12)


@pytest.mark.parametrize(
    ("s", "p_data", "p_g"), [(0.1, 0.5, 0.5), (0.2, 0.9, 0.3), (0.0, 0.2, 1.1)]
)
def test_pointwise_optimal_d_is_one_minus_s_times_the_usual(s, p_data, p_g):
    # D's expected loss at a point x where the densities are p_data and p_g, as a function of
    # its logit t: p_data * (real term at t) + p_g * (fake term at t), read off the loss
    far = _t([-60.0])  # a score whose terms vanish (fake side) ...

    def real_term(t):
        return float(label_smoothed_d_loss(_t([t]), far, s))

    def fake_term(t):
        zero = _t([0.0])
        return float(label_smoothed_d_loss(zero, _t([t]), s) - label_smoothed_d_loss(zero, far, s))

    res = minimize_scalar(
        lambda t: p_data * real_term(t) + p_g * fake_term(t),
        bounds=(-20, 20),
        method="bounded",
        options={"xatol": 1e-10},
    )
    d_star = 1 / (1 + np.exp(-res.x))
    assert d_star == pytest.approx((1 - s) * p_data / (p_data + p_g), abs=1e-6)


def test_game_uses_it_for_d_only_and_refuses_other_losses():
    real, fake = _t([[0.5], [1.5]]), _t([[-0.3], [0.2]])
    d = lambda x: 2.0 * x  # noqa: E731
    game = Game(GameConfig(loss="minimax", label_smoothing=0.1))
    d_loss, stats = game.discriminator_loss(d, real, fake)
    assert float(d_loss) == pytest.approx(float(label_smoothed_d_loss(2 * real, 2 * fake, 0.1)))
    g_loss, _ = game.generator_loss(d, fake)
    g_plain, _ = Game(GameConfig(loss="minimax")).generator_loss(d, fake)
    assert float(g_loss) == float(g_plain)
    for loss in ("wasserstein", "hinge", "least-squares"):
        with pytest.raises(GankitError, match=r"game\.label_smoothing"):
            Game(GameConfig(loss=loss, label_smoothing=0.1))
