"""Every loss of gankit.game.losses against its formula, written here independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from gankit.game import losses
from gankit.game.losses import LOSSES, get_loss

scores = st.lists(st.floats(-8.0, 8.0, allow_nan=False), min_size=1, max_size=16)


def _t(xs):
    return torch.tensor(xs, dtype=torch.float64)


def _ref(name, real, fake):
    """The textbook formula in terms of probabilities D = sigmoid(s) or raw critic scores f."""
    r, f = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    dr, df = 1.0 / (1.0 + np.exp(-r)), 1.0 / (1.0 + np.exp(-f))
    if name == "minimax":
        return -np.mean(np.log(dr)) - np.mean(np.log(1 - df)), np.mean(np.log(1 - df))
    if name == "nonsaturating":
        return -np.mean(np.log(dr)) - np.mean(np.log(1 - df)), -np.mean(np.log(df))
    if name == "wasserstein":
        return np.mean(f) - np.mean(r), -np.mean(f)
    if name == "hinge":
        return (np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)), -np.mean(f))
    if name == "least-squares":
        return 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f**2), 0.5 * np.mean((f - 1) ** 2)
    raise AssertionError(name)


def test_registry_has_the_five_objectives():
    assert set(LOSSES) == {"minimax", "nonsaturating", "wasserstein", "hinge", "least-squares"}
    assert get_loss("minimax").probabilities and get_loss("nonsaturating").probabilities
    assert get_loss("wasserstein").lipschitz
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("nope")
    with pytest.raises(ValueError, match="already registered"):
        losses.register_loss("hinge", losses.hinge, probabilities=False)


@pytest.mark.parametrize("name", sorted(LOSSES))
@settings(max_examples=40, deadline=None)
@given(real=scores, fake=scores)
def test_loss_matches_formula(name, real, fake):
    d, g = get_loss(name)(_t(real), _t(fake))
    d_ref, g_ref = _ref(name, real, fake)
    assert float(d) == pytest.approx(d_ref, rel=1e-9, abs=1e-9)
    assert float(g) == pytest.approx(g_ref, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_shapes_n_and_n1_agree_and_g_reads_fake_only(name):
    real, fake = torch.randn(7, 1, dtype=torch.float64), torch.randn(7, 1, dtype=torch.float64)
    loss = get_loss(name)
    d1, g1 = loss(real, fake)
    d2, g2 = loss(real.reshape(-1), fake.reshape(-1))
    assert torch.equal(d1, d2) and torch.equal(g1, g2)
    assert d1.dim() == 0 and g1.dim() == 0
    _, g3 = loss(real + 5.0, fake)
    assert torch.equal(g1, g3)


def test_hand_worked_values():
    zero = torch.zeros(4, dtype=torch.float64)
    for name in ("minimax", "nonsaturating"):
        d, _ = get_loss(name)(zero, zero)
        assert float(d) == pytest.approx(2 * math.log(2), rel=1e-12)
    assert float(get_loss("minimax")(zero, zero)[1]) == pytest.approx(-math.log(2), rel=1e-12)
    assert float(get_loss("nonsaturating")(zero, zero)[1]) == pytest.approx(math.log(2), rel=1e-12)
    # wasserstein: real scores 3, fake 1 -> d = 1 - 3 = -2, g = -1
    d, g = get_loss("wasserstein")(torch.full((3,), 3.0), torch.full((3,), 1.0))
    assert (float(d), float(g)) == (-2.0, -1.0)
    # hinge: real [2, 0] -> relu(1-2)=0, relu(1-0)=1 -> 0.5 ; fake [-2, 0.5] -> 0, 1.5 -> 0.75
    d, g = get_loss("hinge")(torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.5]))
    assert float(d) == pytest.approx(1.25) and float(g) == pytest.approx(0.75)
    # least squares: real 1, fake 0 is D's optimum (d = 0), g = 1/2
    d, g = get_loss("least-squares")(torch.ones(2), torch.zeros(2))
    assert float(d) == 0.0 and float(g) == 0.5


def test_probability_losses_stay_finite_at_extreme_scores():
    big = torch.tensor([-200.0, 200.0], dtype=torch.float64)
    for name in ("minimax", "nonsaturating"):
        d, g = get_loss(name)(big, big)
        assert torch.isfinite(d) and torch.isfinite(g)


@settings(max_examples=60, deadline=None)
@given(p=st.floats(0.01, 10.0), q=st.floats(0.01, 10.0))
def test_minimax_d_loss_is_minimised_at_optimal_discriminator(p, q):
    """Pointwise, D minimises p * (-log d) + q * (-log(1 - d)) (p = p_data(x), q = p_g(x)):
    evaluate it through the loss itself (one real and one fake score at the same x, weighted)."""
    loss = get_loss("minimax")

    def objective(logit):
        s = torch.tensor([logit], dtype=torch.float64)
        # d_loss(s, s) = -log D - log(1 - D); the weights split the two terms.
        real_term, _ = loss(s, torch.tensor([-1e9], dtype=torch.float64))  # -log D + ~0
        fake_term = loss(torch.tensor([1e9], dtype=torch.float64), s)[0]  # ~0 - log(1 - D)
        return float(p * real_term + q * fake_term)

    res = minimize_scalar(objective, bounds=(-30, 30), method="bounded", options={"xatol": 1e-10})
    d_star = 1.0 / (1.0 + math.exp(-res.x))
    assert d_star == pytest.approx(p / (p + q), abs=1e-4)
    # and the minimum value is -(p log D* + q log(1 - D*)), i.e. 2 log 2 at p = q = 1 scaled
    opt = p / (p + q)
    assert res.fun == pytest.approx(-(p * math.log(opt) + q * math.log(1 - opt)), rel=1e-6)


@pytest.mark.parametrize("score", [-5.0, -10.0, -20.0])
def test_nonsaturating_gradient_survives_when_d_rejects_fakes(score):
    """When D(G(z)) = sigmoid(s) -> 0, d g / d s -> -1 for the nonsaturating loss (G keeps
    learning) but -> 0 for the saturating minimax loss."""
    s = torch.tensor([score], dtype=torch.float64, requires_grad=True)
    real = torch.zeros(1, dtype=torch.float64)
    (g_ns,) = torch.autograd.grad(get_loss("nonsaturating")(real, s)[1], s)
    (g_mm,) = torch.autograd.grad(get_loss("minimax")(real, s)[1], s)
    d = 1.0 / (1.0 + math.exp(-score))
    assert float(g_ns) == pytest.approx(-(1 - d), rel=1e-9)  # d/ds -log sigmoid(s)
    assert float(g_mm) == pytest.approx(-d, rel=1e-9)  # d/ds log(1 - sigmoid(s))
    assert abs(float(g_ns)) > 0.99
    assert abs(float(g_mm)) < 1e-2
    if score <= -20:
        assert abs(float(g_mm)) < 1e-8


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_work_with_torch_func_grad(name):
    loss = get_loss(name)
    real = torch.linspace(-2, 2, 5, dtype=torch.float64)
    fake = torch.linspace(-1, 3, 5, dtype=torch.float64)
    gd = torch.func.grad(lambda f: loss(real, f)[0])(fake)
    gg = torch.func.grad(lambda f: loss(real, f)[1])(fake)
    fd = fake.clone().requires_grad_(True)
    ad_d = torch.autograd.grad(loss(real, fd)[0], fd)[0]
    fg = fake.clone().requires_grad_(True)
    ad_g = torch.autograd.grad(loss(real, fg)[1], fg)[0]
    assert torch.allclose(gd, ad_d) and torch.allclose(gg, ad_g)
    # a functional call on the raw functions too, through vmap over a batch of score vectors
    fn = losses.__dict__[name.replace("-", "_")]
    batched = torch.func.vmap(torch.func.grad(lambda f: fn(real, f)[1]))(fake.expand(3, 5))
    assert torch.allclose(batched, gg.expand(3, 5))


def test_d_readout():
    s = torch.tensor([0.0, 2.0])
    assert torch.equal(losses.d_readout(get_loss("nonsaturating"), s), torch.sigmoid(s))
    assert torch.equal(losses.d_readout(get_loss("hinge"), s), s)
