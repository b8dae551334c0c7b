"""Feature matching (Salimans et al. 2016, sec. 3.1) on a stand-in D with linear features."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.config import GameConfig
from gankit.errors import GankitError
from gankit.game.game import Game
from gankit.game.terms import feature_matching

W = torch.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]], dtype=torch.float64)  # (F=3, dim=2)
V = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)


class _LinearFeatures(nn.Module):
    """features(x) = x W^T (n, 3); score(f) = f . v (n, 1); D = score o features."""

    def features(self, x):
        return x @ W.T

    def score(self, f):
        return (f @ V).unsqueeze(1)

    def forward(self, x):
        return self.score(self.features(x))


def test_hand_value():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    fake = torch.tensor([[0.0, 0.0]])
    assert float(feature_matching(real, fake)) == pytest.approx(13.0)  # (2, 3) . (2, 3)
    assert float(feature_matching(real, real.flip(0))) == 0.0


@pytest.mark.parametrize("adversarial", [True, False])
def test_generator_loss_and_gradient_against_the_formula(adversarial):
    g = torch.Generator().manual_seed(0)
    real = torch.randn(6, 2, generator=g, dtype=torch.float64)
    fake = torch.randn(4, 2, generator=g, dtype=torch.float64).requires_grad_(True)
    cfg = GameConfig(loss="wasserstein", feature_matching=0.7, adversarial_g=adversarial)
    loss, stats = Game(cfg).generator_loss(_LinearFeatures(), fake, real=real)
    gap = W @ (real.mean(0) - fake.detach().mean(0))  # mean feature difference, (3,)
    expected = 0.7 * float(gap @ gap)
    # d/d fake_i of 0.7 ||gap||^2 = -2 * 0.7 / n * W^T gap; wasserstein g = -mean(f . v)
    grad_expected = (-2 * 0.7 / 4 * (W.T @ gap)).expand(4, 2).clone()
    if adversarial:
        expected += -float((fake.detach() @ W.T @ V).mean())
        grad_expected += -(W.T @ V) / 4
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-12)
    assert float(stats["feature_matching"]) == pytest.approx(float(gap @ gap), rel=1e-12)
    (grad,) = torch.autograd.grad(loss, fake)
    assert torch.allclose(grad, grad_expected, rtol=1e-12)


def test_refusals_name_the_keys():
    with pytest.raises(GankitError, match=r"game\.adversarial_g"):
        Game(GameConfig(adversarial_g=False))
    game = Game(GameConfig(feature_matching=1.0))
    with pytest.raises(GankitError, match=r"game\.feature_matching.*features"):
        game.check_discriminator(nn.Linear(2, 1))
    game.check_discriminator(_LinearFeatures())
    with pytest.raises(ValueError, match="real minibatch"):
        game.generator_loss(_LinearFeatures(), torch.zeros(2, 2, dtype=torch.float64))
    assert game.needs_real_for_g and not Game(GameConfig()).needs_real_for_g
