"""G's input and G's output: drawing a `Latent`, running G on it, sampling G in eval mode."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.data.batch import Latent
from gankit.nets.conditional import draw_classes, stratified_classes


def sample_noise(
    n: int,
    dim: int,
    kind: str,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """``(n, dim)`` noise on ``device``: ``uniform`` on [-1, 1] (the classic demo's prior) or
    ``normal``. It is drawn where ``generator`` lives (a stream draws on its own device) and
    moved to ``device`` where that differs (an evaluation's CPU stream sampling a CUDA G)."""
    where = generator.device if generator is not None else device
    if kind == "uniform":
        z = torch.rand(n, dim, generator=generator, device=where).mul_(2.0).sub_(1.0)
    elif kind == "normal":
        z = torch.randn(n, dim, generator=generator, device=where)
    else:
        raise ValueError(f"unknown noise '{kind}'; known: uniform, normal")
    return z.to(device)


def class_shares(generator: nn.Module):
    """The ``(classes,)`` class shares a conditional G samples from; None for any other G."""
    prior = getattr(generator, "class_prior", None)
    return None if prior is None else prior.shares


def sample_latent(
    n: int,
    model: ModelConfig,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    shares: torch.Tensor | None = None,
) -> Latent:
    """``n`` latents of the model: noise ``z`` of ``model.noise_dim`` from ``model.noise``;
    with a conditional G's class ``shares``, classes ``y`` drawn i.i.d. from them (after z,
    from the same stream)."""
    z = sample_noise(n, model.noise_dim, model.noise, generator, device)
    if shares is None:
        return Latent(z)
    return Latent(z, y=draw_classes(shares, n, generator, device))


def run_generator(generator: nn.Module, latent: Latent) -> torch.Tensor:
    """``G(z)``, with the latent's class passed by keyword where it has one (``G(z, y=...)``),
    so that conditional and unconditional generators share the loop."""
    return generator(latent.z) if latent.y is None else generator(latent.z, y=latent.y)


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
    classes: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(n, ...)`` float32 CPU samples of G in eval mode, latents drawn from ``rng`` in
    batches of ``batch``; a conditional G is asked for ``classes`` (``(n,)``), by default its
    prior's shares exactly, each class spread evenly over the sequence
    (:func:`generated_classes`)."""
    out = []
    if classes is None:
        classes = generated_classes(generator, n)
    with eval_mode(generator):
        for start in range(0, n, batch):
            m = min(batch, n - start)
            latent = sample_latent(m, model, rng, device)
            if classes is not None:
                latent = Latent(latent.z, y=classes[start : start + m].to(latent.z.device))
            out.append(run_generator(generator, latent).float().cpu())
    return torch.cat(out)


def generated_classes(generator: nn.Module, n: int) -> torch.Tensor | None:
    """``(n,)`` the classes :func:`generate` asks a conditional G for (stratified by its
    prior's shares, the same for every draw of ``n``); None for an unconditional G."""
    shares = class_shares(generator)
    return None if shares is None else stratified_classes(shares, n)
