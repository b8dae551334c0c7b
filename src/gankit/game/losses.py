"""Adversarial objectives as pure functions of raw discriminator outputs.

Each loss maps ``(real_scores, fake_scores)`` (``(n,)`` or ``(n, 1)`` logits / critic scores, never
probabilities, so that ``log sigmoid`` stays finite) to ``(d_loss, g_loss)``, two scalars that the
discriminator and the generator *minimise*. ``g_loss`` depends on ``fake_scores`` only.

With ``D(x) = sigmoid(s)``:

* ``minimax`` (Goodfellow et al. 2014, eq. 1, "saturating"):
  d = -E[log D(x)] - E[log(1 - D(G(z)))],  g = E[log(1 - D(G(z)))].
* ``nonsaturating`` (same paper, section 3): same d, g = -E[log D(G(z))].
* ``wasserstein`` (Arjovsky et al. 2017): d = E[f(G(z))] - E[f(x)], g = -E[f(G(z))];
  the critic is kept Lipschitz by weight clipping or a gradient penalty (see ``penalties``).
* ``hinge`` (Lim & Ye 2017; Miyato et al. 2018): d = E[relu(1 - f(x))] + E[relu(1 + f(G(z)))],
  g = -E[f(G(z))].
* ``least-squares`` (Mao et al. 2017, a=0, b=c=1): d = 1/2 E[(f(x) - 1)^2] + 1/2 E[f(G(z))^2],
  g = 1/2 E[(f(G(z)) - 1)^2].

One-sided label smoothing (:func:`label_smoothed_d_loss`) replaces D's loss of the sigmoid
losses by a cross-entropy whose real target is ``1 - s``.

Look a loss up with :func:`get_loss`; ``LOSSES[name].probabilities`` tells whether ``sigmoid`` of
the scores is a probability (for logging D(x) and D(G(z))).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

LossFn = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def minimax(real_scores: Tensor, fake_scores: Tensor) -> tuple[Tensor, Tensor]:
    """Goodfellow's value function V(D, G); G minimises log(1 - D(G(z))) (saturates when D wins)."""
    d_loss = F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
    g_loss = -F.softplus(fake_scores).mean()  # log(1 - sigmoid(s)) = -softplus(s)
    return d_loss, g_loss


def nonsaturating(real_scores: Tensor, fake_scores: Tensor) -> tuple[Tensor, Tensor]:
    """Minimax D loss; G maximises log D(G(z)) instead, keeping gradients when D(G(z)) -> 0."""
    d_loss = F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
    g_loss = F.softplus(-fake_scores).mean()  # -log sigmoid(s)
    return d_loss, g_loss


def wasserstein(real_scores: Tensor, fake_scores: Tensor) -> tuple[Tensor, Tensor]:
    """Kantorovich-Rubinstein dual: the critic maximises E f(x) - E f(G(z))."""
    d_loss = fake_scores.mean() - real_scores.mean()
    g_loss = -fake_scores.mean()
    return d_loss, g_loss


def hinge(real_scores: Tensor, fake_scores: Tensor) -> tuple[Tensor, Tensor]:
    """Hinge loss of SAGAN / SN-GAN."""
    d_loss = F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()
    g_loss = -fake_scores.mean()
    return d_loss, g_loss


def least_squares(real_scores: Tensor, fake_scores: Tensor) -> tuple[Tensor, Tensor]:
    """LSGAN with targets a=0 (fake), b=1 (real), c=1 (what G wants D to say)."""
    d_loss = 0.5 * ((real_scores - 1.0) ** 2).mean() + 0.5 * (fake_scores**2).mean()
    g_loss = 0.5 * ((fake_scores - 1.0) ** 2).mean()
    return d_loss, g_loss


@dataclass(frozen=True)
class Loss:
    """A registered objective: the function and how to read its scores."""

    name: str
    fn: LossFn
    probabilities: bool  # sigmoid(score) is D's probability that the input is real
    lipschitz: bool  # the objective needs a Lipschitz critic (clipping or gradient penalty)

    def __call__(self, real_scores: Tensor, fake_scores: Tensor) -> tuple[Tensor, Tensor]:
        return self.fn(real_scores.reshape(-1), fake_scores.reshape(-1))


LOSSES: dict[str, Loss] = {}


def register_loss(name: str, fn: LossFn, probabilities: bool, lipschitz: bool = False) -> None:
    """Add an objective under ``name``; a name can be registered once."""
    if name in LOSSES:
        raise ValueError(f"loss '{name}' is already registered")
    LOSSES[name] = Loss(name, fn, probabilities, lipschitz)


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"unknown loss '{name}'; known: {', '.join(sorted(LOSSES))}")
    return LOSSES[name]


register_loss("minimax", minimax, probabilities=True)
register_loss("nonsaturating", nonsaturating, probabilities=True)
register_loss("wasserstein", wasserstein, probabilities=False, lipschitz=True)
register_loss("hinge", hinge, probabilities=False)
register_loss("least-squares", least_squares, probabilities=False)


def label_smoothed_d_loss(real_scores: Tensor, fake_scores: Tensor, smoothing: float) -> Tensor:
    """D's loss of the sigmoid losses with one-sided label smoothing (Salimans et al. 2016,
    "Improved techniques for training GANs", sec. 3.4): binary cross-entropy with target
    ``1 - smoothing`` on real samples and 0 (unsmoothed: one-sided) on generated ones,

        d = -E_real[(1 - s) log D(x) + s log(1 - D(x))] - E_fake[log(1 - D(G(z)))].

    Its pointwise minimiser is ``D*(x) = (1 - s) p_data(x) / (p_data(x) + p_g(x))``. Scores are
    logits, ``(n,)`` or ``(n, 1)``; ``smoothing`` in [0, 0.5]; returns a scalar."""
    r, f = real_scores.reshape(-1), fake_scores.reshape(-1)
    real_term = (1.0 - smoothing) * F.softplus(-r) + smoothing * F.softplus(r)
    return real_term.mean() + F.softplus(f).mean()


def d_readout(loss: Loss, scores: Tensor) -> Tensor:
    """What to log as D's output: the probability for sigmoid losses, the raw score otherwise."""
    return torch.sigmoid(scores) if loss.probabilities else scores
