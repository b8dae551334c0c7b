"""G's input and G's output: drawing a `Latent`, running G on it, sampling G in eval mode."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.data.batch import Latent


def sample_noise(
    n: int,
    dim: int,
    kind: str,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """``(n, dim)`` noise: ``uniform`` on [-1, 1] (the classic demo's prior) or ``normal``."""
    if kind == "uniform":
        u = torch.rand(n, dim, generator=generator, device=device)
        return u.mul_(2.0).sub_(1.0)
    if kind == "normal":
        return torch.randn(n, dim, generator=generator, device=device)
    raise ValueError(f"unknown noise '{kind}'; known: uniform, normal")


def sample_latent(
    n: int,
    model: ModelConfig,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> Latent:
    """``n`` latents of the model: noise ``z`` of ``model.noise_dim`` from ``model.noise``."""
    return Latent(sample_noise(n, model.noise_dim, model.noise, generator, device))


def run_generator(generator: nn.Module, latent: Latent) -> torch.Tensor:
    """``G(z)``, with the latent's codes and class passed by keyword where it has them
    (``G(z, codes=..., y=...)``), so that InfoGAN and conditional generators share the loop."""
    extras = {k: v for k, v in (("codes", latent.codes), ("y", latent.y)) if v is not None}
    return generator(latent.z, **extras)


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode for the block, then back in the mode it was in."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@torch.no_grad()
def generate(
    generator: nn.Module,
    model: ModelConfig,
    n: int,
    rng: torch.Generator,
    device: torch.device | str = "cpu",
    batch: int = 65536,
) -> torch.Tensor:
    """``(n, ...)`` float32 CPU samples of G in eval mode, latents drawn from ``rng`` in
    batches of ``batch``."""
    out = []
    with eval_mode(generator):
        for start in range(0, n, batch):
            latent = sample_latent(min(batch, n - start), model, rng, device)
            out.append(run_generator(generator, latent).float().cpu())
    return torch.cat(out)
