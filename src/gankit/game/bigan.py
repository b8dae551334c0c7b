"""BiGAN / ALI's objective (Donahue et al. 2017, "Adversarial feature learning", eq. 3;
Dumoulin et al. 2017, "Adversarially learned inference", eq. 1-2), pure functions of the joint
discriminator's raw scores on ``(x, z)`` pairs.

D tells real pairs ``(x, E(x))`` (a data point and its code) from generated pairs
``(G(z), z)``; G and E play together against it:

    min_{G, E} max_D  V(D, E, G) = E_x[log D(x, E(x))] + E_z[log(1 - D(G(z), z))].

* D's loss is a registered loss's (`gankit.game.losses`, ``game.loss``) with the real pairs on
  the real side and the generated pairs on the generated side: for ``nonsaturating`` (and
  ``minimax``) ``-E log D(x, E(x)) - E log(1 - D(G(z), z))``.
* G and E minimise D's loss with the labels swapped (`generator_encoder_loss`): the generated
  pairs scored as real, the real pairs as generated. For ``nonsaturating`` this is exactly
  the "inverted labels" objective both papers train (Donahue et al. sec. 3.4; Dumoulin et
  al.'s code): ``-E log D(G(z), z) - E log(1 - D(x, E(x)))``, which keeps gradients where D
  wins, for E as Goodfellow's trick does for G. ``minimax`` is the saturating game itself:
  G and E maximise D's loss. ``least-squares`` and ``hinge`` swap their targets likewise.
"""

from __future__ import annotations

from torch import Tensor

from gankit.game.losses import Loss

#: the losses whose G-player maximises D's own loss instead of swapping the labels
SATURATING = ("minimax",)


def discriminator_loss(loss: Loss, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """D's loss of ``loss`` on the scores of real pairs ``(x, E(x))`` and generated pairs
    ``(G(z), z)`` (each ``(n,)`` or ``(n, 1)`` raw scores)."""
    d_loss, _ = loss(real_scores, fake_scores)
    return d_loss


def generator_encoder_loss(loss: Loss, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """The loss G and E minimise together (see the module docstring): D's loss with the pairs'
    labels swapped, or minus D's loss for a saturating ``loss``; differentiated through both
    sides' scores (E's through ``real_scores``, G's through ``fake_scores``)."""
    if loss.name in SATURATING:
        return -discriminator_loss(loss, real_scores, fake_scores)
    return discriminator_loss(loss, fake_scores, real_scores)


def reparameterize(mean: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """ALI's stochastic encoder, one draw (Dumoulin et al. 2017, sec. 2.1):
    ``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)`` of the same shape."""
    return mean + (0.5 * log_var).exp() * eps


def reconstruction_l2(x: Tensor, reconstruction: Tensor) -> Tensor:
    """Mean squared error per pixel (per coordinate for points) of ``reconstruction`` against
    ``x``, any equal shapes: ``mean((x - reconstruction)^2)``."""
    if x.shape != reconstruction.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(reconstruction.shape)}")
    return (x.float() - reconstruction.float()).pow(2).mean()
