"""Build G and D from the model config, and draw G's input noise."""

from __future__ import annotations

import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.nets.mlp import discriminator_mlp, generator_mlp


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


STANDARDIZE_SAMPLES = 10_000


def build_models(
    model: ModelConfig, data_dim: int, sample_data=None, seed: int = 0
) -> tuple[nn.Module, nn.Module]:
    """(G, D) for vector data of ``data_dim`` dimensions. With ``sample_data`` (``(n, gen) ->
    (n, dim)``) both nets' data standardisation is fitted on a sample drawn from its own stream,
    so that it never shifts the training streams."""
    g = generator_mlp(model.noise_dim, data_dim, model.g_width, model.g_depth, model.activation)
    d = discriminator_mlp(data_dim, model.d_width, model.d_depth, model.activation)
    if sample_data is not None and model.standardize:
        reference = sample_data(STANDARDIZE_SAMPLES, torch.Generator().manual_seed(seed + 104729))
        g.standardize.fit(reference)
        d.standardize.fit(reference)
    return g, d
