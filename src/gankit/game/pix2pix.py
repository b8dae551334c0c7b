"""pix2pix's objective (Isola et al. 2017, eq. 4), pure functions of D's patch scores and the
images: ``G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G)``.

* the adversarial terms reuse a registered loss (`gankit.game.losses`, ``game.loss``) on every
  patch score, D reading ``(input, output)`` pairs: real pairs ``(s, x)`` against translated
  ones ``(s, G(s))``; D's loss is halved, as the paper does "to slow down the rate at which D
  learns relative to G" (sec. 3.3; with Adam this only matters where a loss is not
  scale-invariant);
* ``L_L1 = E |x - G(s)|``, the mean absolute error per pixel in the nets' range [-1, 1];
* ``adversarial = False``: the paper's L1-only ablation (Table 1, "L1"): no D, G minimises
  ``lambda L_L1`` alone (the same U-Net, its dropout still on).
"""

from __future__ import annotations

from torch import Tensor

from gankit.game.losses import Loss


def l1_term(translated: Tensor, target: Tensor) -> Tensor:
    """``E |target - translated|``: the mean absolute error over every pixel of the batch."""
    return (target - translated).abs().mean()


def discriminator_objective(loss: Loss, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """D's loss, halved: ``0.5 * d_loss(real_scores, fake_scores)`` of ``loss`` over every
    patch score of the real pairs and the translated pairs (any shape, flattened)."""
    d_loss, _ = loss(real_scores, fake_scores)
    return 0.5 * d_loss


def generator_objective(
    loss: Loss | None,
    fake_scores: Tensor | None,
    translated: Tensor,
    target: Tensor,
    l1_weight: float,
) -> tuple[Tensor, dict[str, Tensor]]:
    """G's loss ``g_loss(fake_scores) + l1_weight * L1`` and its parts (``g_adv``, ``l1``);
    ``loss = None`` (no D): ``l1_weight * L1`` alone, the L1-only ablation. A registered
    loss's ``g_loss`` reads the generated side's scores only, so they stand on both sides."""
    l1 = l1_term(translated, target)
    if loss is None:
        return l1_weight * l1, {"l1": l1.detach()}
    _, g_adv = loss(fake_scores.detach(), fake_scores)
    return g_adv + l1_weight * l1, {"g_adv": g_adv.detach(), "l1": l1.detach()}
