"""Regularisers of the discriminator, and weight clipping: the seam where remedies plug in.

A penalty is a pure function ``penalty(d_fn, real, fake, generator) -> scalar tensor`` where
``d_fn`` maps samples to raw scores (a module, or a ``torch.func.functional_call`` closure, so
that unrolled updates can differentiate through it). The `Game` adds ``weight * penalty`` to the
discriminator's loss for every entry of ``game.penalties`` (``{ name = weight }``).

Register new regularisers with :func:`register_penalty`; :func:`clip_weights` is the WGAN
(Arjovsky et al. 2017) alternative to a penalty and is applied after each critic step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

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


def _grad_sq_norm(d_fn: ScoreFn, x: Tensor) -> Tensor:
    x = x.detach().requires_grad_(True)
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


@dataclass(frozen=True)
class Penalty:
    """A registered regulariser; ``needs_fake`` tells whether it reads generated samples."""

    name: str
    fn: PenaltyFn
    doc: str


PENALTIES: dict[str, Penalty] = {}


def register_penalty(name: str, fn: PenaltyFn, doc: str) -> None:
    """Add a regulariser under ``name``; a name can be registered once."""
    if name in PENALTIES:
        raise ValueError(f"penalty '{name}' is already registered")
    PENALTIES[name] = Penalty(name, fn, doc)


def get_penalty(name: str) -> Penalty:
    if name not in PENALTIES:
        raise ValueError(f"unknown penalty '{name}'; known: {', '.join(sorted(PENALTIES))}")
    return PENALTIES[name]


register_penalty("gp", gradient_penalty, "WGAN-GP gradient penalty on interpolates (weight ~10)")
register_penalty("r1", r1_penalty, "R1: squared gradient norm of D on real data (weight = gamma/2)")
register_penalty("r2", r2_penalty, "R2: squared gradient norm of D on generated data")


@torch.no_grad()
def clip_weights(module: nn.Module, bound: float) -> None:
    """Clamp every parameter of the critic to ``[-bound, bound]`` (WGAN, Arjovsky et al. 2017)."""
    for p in module.parameters():
        p.clamp_(-bound, bound)
