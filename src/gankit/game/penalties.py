"""Regularisers of the discriminator, and weight clipping: the seam where remedies plug in.

A penalty is a pure function ``penalty(d_fn, real, fake, generator) -> scalar tensor`` where
``d_fn`` maps samples to raw scores (a module, or a ``torch.func.functional_call`` closure, so
that unrolled updates can differentiate through it). The `Game` adds ``weight * penalty`` to the
discriminator's loss for every entry of ``game.penalties`` (``{ name = weight }``).

Register new regularisers with :func:`register_penalty`; :func:`clip_weights` is the WGAN
(Arjovsky et al. 2017) alternative to a penalty and is applied after each critic step. A penalty
registered with ``probabilities=True`` reads ``sigmoid(score)`` as D's probability and is refused
(by the `Game`) for losses whose scores are not logits.

With packing (PacGAN) ``d_fn`` maps ``(n, dim)`` to ``(n / m, 1)``; the per-output penalties
(``roth``) group the input gradients by D's output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.config import MAX_PENALTY_WEIGHT, check_number

ScoreFn = Callable[[Tensor], Tensor]
PenaltyFn = Callable[[ScoreFn, Tensor, Tensor, "torch.Generator | None"], Tensor]


def gradient_penalty(
    d_fn: ScoreFn, real: Tensor, fake: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017, eq. 3): E[(||grad_x D(x_hat)||_2 - 1)^2] on random
    interpolates ``x_hat = eps * real + (1 - eps) * fake``, ``eps ~ U[0, 1]`` per sample."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    scores = d_fn(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


def _as_grad_input(x: Tensor) -> Tensor:
    """``x`` as a leaf that requires grad; one that already is one is kept, so that a caller
    that scored it already (the `Game` on real data) can hand the cached scores back."""
    return x if (x.is_leaf and x.requires_grad) else x.detach().requires_grad_(True)


def _grad_sq_norm(d_fn: ScoreFn, x: Tensor) -> Tensor:
    x = _as_grad_input(x)
    (grad,) = torch.autograd.grad(d_fn(x).sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()


def r1_penalty(
    d_fn: ScoreFn, real: Tensor, fake: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """R1 (Mescheder et al. 2018, eq. 9 without gamma/2): E_real[||grad_x D(x)||^2]; penalising
    D's slope on the data makes simultaneous and alternating gradient descent converge locally."""
    return _grad_sq_norm(d_fn, real)


def r2_penalty(
    d_fn: ScoreFn, real: Tensor, fake: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """R2 (Mescheder et al. 2018, eq. 10 without gamma/2): E_fake[||grad_x D(x)||^2]."""
    return _grad_sq_norm(d_fn, fake)


def roth_penalty(
    d_fn: ScoreFn, real: Tensor, fake: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Roth et al. (2017), "Stabilizing training of generative adversarial networks through
    regularization", the regulariser of the JS-GAN (Omega_JS of their Sec. 3, Algorithm 1):

        E_real[(1 - D(x))^2 ||grad_x s(x)||^2] + E_fake[D(x)^2 ||grad_x s(x)||^2],

    with ``s`` the logit and ``D = sigmoid(s)``: the analytic, noise-free replacement of instance
    noise of small variance. Roth et al. subtract ``gamma / 2 * Omega`` from the objective D
    maximises, so the weight in ``game.penalties`` is ``gamma / 2`` (``{ roth = 1.0 }`` is their
    gamma = 2), as for ``r1``. Both factors are differentiated (no stop-gradient), as in the
    authors' code. Only for losses whose scores are logits (minimax, nonsaturating).

    ``real``/``fake``: ``(n, ...)`` samples (used as constants); returns a scalar."""
    real_term = _weighted_grad_sq_norm(d_fn, real, lambda s: torch.sigmoid(-s))  # 1 - D
    fake_term = _weighted_grad_sq_norm(d_fn, fake, torch.sigmoid)  # D
    return real_term + fake_term


def _weighted_grad_sq_norm(d_fn: ScoreFn, x: Tensor, weight: Callable[[Tensor], Tensor]) -> Tensor:
    """E over D's outputs of ``weight(s)^2 * ||grad_x s||^2`` (gradients grouped per output)."""
    x = _as_grad_input(x)
    scores = d_fn(x).reshape(-1)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    sq_norms = grad.reshape(scores.shape[0], -1).pow(2).sum(1)
    return (weight(scores).pow(2) * sq_norms).mean()


@dataclass(frozen=True)
class Penalty:
    """A registered regulariser; ``probabilities``: it reads ``sigmoid(score)`` as D(x), so it
    only makes sense for the sigmoid losses; ``reads``: where it evaluates D, ``"real"`` (at the
    real images only), ``"fake"`` (the generated ones only) or ``"both"`` (both, or between
    them): a class-conditional D can only be read at one side's images, with their classes."""

    name: str
    fn: PenaltyFn
    doc: str
    probabilities: bool = False
    reads: str = "both"


PENALTIES: dict[str, Penalty] = {}


def register_penalty(
    name: str, fn: PenaltyFn, doc: str, probabilities: bool = False, reads: str = "both"
) -> None:
    """Add a regulariser under ``name``; a name can be registered once."""
    if name in PENALTIES:
        raise ValueError(f"penalty '{name}' is already registered")
    if reads not in ("real", "fake", "both"):
        raise ValueError(f"penalty '{name}': reads must be real, fake or both, got {reads!r}")
    PENALTIES[name] = Penalty(name, fn, doc, probabilities, reads)


def check_weight(name: str, weight) -> float:
    """The weight of ``game.penalties.NAME``: a finite number in [0, `MAX_PENALTY_WEIGHT`]
    (0 switches the penalty off), checked by `gankit.config.check_number` as every config
    value is (`gankit.config.from_dict` already did, for a config read from a file or
    ``--set``); `GankitError` naming ``game.penalties.NAME`` otherwise."""
    return float(check_number(f"game.penalties.{name}", weight, 0.0, MAX_PENALTY_WEIGHT))


def get_penalty(name: str) -> Penalty:
    if name not in PENALTIES:
        raise ValueError(f"unknown penalty '{name}'; known: {', '.join(sorted(PENALTIES))}")
    return PENALTIES[name]


register_penalty("gp", gradient_penalty, "WGAN-GP gradient penalty on interpolates (weight ~10)")
register_penalty(
    "r1",
    r1_penalty,
    "R1: squared gradient norm of D on real data (weight = gamma/2)",
    reads="real",
)
register_penalty("r2", r2_penalty, "R2: squared gradient norm of D on generated data", reads="fake")
register_penalty(
    "roth",
    roth_penalty,
    "Roth et al. 2017: (1-D)^2 / D^2 weighted squared logit gradient norms (weight = gamma/2)",
    probabilities=True,
)


@torch.no_grad()
def clip_weights(module: nn.Module, bound: float) -> None:
    """Clamp every parameter of the critic to ``[-bound, bound]`` (WGAN, Arjovsky et al. 2017)."""
    for p in module.parameters():
        p.clamp_(-bound, bound)
