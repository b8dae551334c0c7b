"""BiGAN / ALI's objective (`gankit.game.bigan`) against hand computations: D's loss on real
pairs (x, E(x)) and generated pairs (G(z), z), G and E's swapped-label loss, the saturating
game's sign, the reparameterised draw and the reconstruction error."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.game.bigan import (
    discriminator_loss,
    generator_encoder_loss,
    reconstruction_l2,
    reparameterize,
)
from gankit.game.losses import get_loss


def _log_sigmoid(s: float) -> float:
    return -math.log1p(math.exp(-s))


REAL = torch.tensor([2.0, -1.0])  # D's logits on (x, E(x))
FAKE = torch.tensor([0.5, -3.0])  # D's logits on (G(z), z)


def test_d_loss_is_the_cross_entropy_of_real_and_generated_pairs():
    # -E log D(x, E(x)) - E log(1 - D(G(z), z)), D = sigmoid(logit)
    expected = (
        -(_log_sigmoid(2.0) + _log_sigmoid(-1.0)) / 2 - (_log_sigmoid(-0.5) + _log_sigmoid(3.0)) / 2
    )
    got = discriminator_loss(get_loss("nonsaturating"), REAL, FAKE)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_nonsaturating_g_and_e_loss_inverts_the_labels():
    # -E log D(G(z), z) - E log(1 - D(x, E(x))): Donahue et al.'s inverted labels
    expected = (
        -(_log_sigmoid(0.5) + _log_sigmoid(-3.0)) / 2 - (_log_sigmoid(-2.0) + _log_sigmoid(1.0)) / 2
    )
    got = generator_encoder_loss(get_loss("nonsaturating"), REAL, FAKE)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_minimax_g_and_e_maximise_ds_loss():
    loss = get_loss("minimax")
    d = discriminator_loss(loss, REAL, FAKE)
    assert generator_encoder_loss(loss, REAL, FAKE).item() == pytest.approx(-d.item())


def test_least_squares_swaps_its_targets():
    # G and E want generated pairs scored 1 and real pairs 0
    expected = 0.5 * ((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2 + 0.5 * (2.0**2 + 1.0**2) / 2
    got = generator_encoder_loss(get_loss("least-squares"), REAL, FAKE)
    assert got.item() == pytest.approx(expected)


def test_gradients_reach_both_sides():
    """E's gradient flows through the real pairs' scores, G's through the generated ones; the
    nonsaturating loss keeps E's gradient where D is sure of a real pair (logit 8)."""
    real = torch.tensor([8.0], requires_grad=True)
    fake = torch.tensor([-8.0], requires_grad=True)
    generator_encoder_loss(get_loss("nonsaturating"), real, fake).backward()
    # d/dr softplus(r) = sigmoid(r); d/df softplus(-f) = -sigmoid(-f)
    assert real.grad.item() == pytest.approx(1 / (1 + math.exp(-8.0)))
    assert fake.grad.item() == pytest.approx(-1 / (1 + math.exp(-8.0)))


def test_reparameterize_and_reconstruction_l2_by_hand():
    mean = torch.tensor([[1.0, -2.0]])
    log_var = torch.tensor([[math.log(4.0), 0.0]])
    eps = torch.tensor([[0.5, -1.0]])
    assert reparameterize(mean, log_var, eps).tolist() == [[2.0, -3.0]]
    x = torch.tensor([[0.0, 1.0], [0.5, 0.5]])
    r = torch.tensor([[1.0, 1.0], [0.0, 0.5]])
    assert reconstruction_l2(x, r).item() == pytest.approx((1 + 0 + 0.25 + 0) / 4)
    with pytest.raises(ValueError, match="shapes differ"):
        reconstruction_l2(x, r[:1])
