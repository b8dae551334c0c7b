"""Multi-layer perceptrons for toy generators and discriminators."""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
}


class MLP(nn.Module):
    """``(n, in_dim) -> (n, out_dim)``: ``depth`` hidden layers of ``width`` units, linear out."""

    def __init__(self, in_dim: int, out_dim: int, width: int, depth: int, activation: str):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}'; known: {', '.join(_ACTIVATIONS)}")
        layers: list[nn.Module] = []
        last = in_dim
        for _ in range(depth):
            layers += [nn.Linear(last, width), _ACTIVATIONS[activation]()]
            last = width
        layers.append(nn.Linear(last, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Standardize(nn.Module):
    """A fixed affine change of coordinates between data space and unit scale.

    ``forward`` maps data to standard units, ``(x - shift) / scale``; ``inverse`` maps back. The
    shift and scale are buffers (saved in checkpoints), set once from the data by
    :meth:`fit`, the way image GANs rescale pixels to [-1, 1]: nets with default initialisation
    then see and produce values of order one wherever the data lives."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("shift", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))

    @torch.no_grad()
    def fit(self, data: torch.Tensor) -> None:
        self.shift.copy_(data.mean(0))
        self.scale.copy_(data.std(0).clamp_min(1e-8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * self.scale + self.shift


class Generator(nn.Module):
    """G: noise ``(n, noise_dim)`` -> samples ``(n, data_dim)``; an MLP in standard units whose
    output is mapped to data space by ``standardize.inverse``."""

    def __init__(self, noise_dim: int, data_dim: int, width: int, depth: int, activation: str):
        super().__init__()
        self.body = MLP(noise_dim, data_dim, width, depth, activation)
        self.standardize = Standardize(data_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.standardize.inverse(self.body(z))


class Discriminator(nn.Module):
    """D: samples ``(n, data_dim)`` -> one raw score (logit / critic value) each, ``(n, 1)``,
    computed by an MLP on standardised inputs.

    Split in two so that losses can read D's hidden representation (feature matching, Salimans
    et al. 2016, sec. 3.1): ``features(x) -> (n, F)``, the last hidden layer's activations
    (``F = width``; the standardised input itself when ``depth = 0``), and ``score(f) -> (n, 1)``,
    the final linear layer; ``forward(x) == score(features(x))``."""

    def __init__(self, data_dim: int, width: int, depth: int, activation: str):
        super().__init__()
        self.standardize = Standardize(data_dim)
        self.body = MLP(data_dim, 1, width, depth, activation)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, data_dim) -> (n, F)``: the activations the score layer reads."""
        return self.body.net[:-1](self.standardize(x))

    def score(self, f: torch.Tensor) -> torch.Tensor:
        """``(n, F) -> (n, 1)``: raw scores of features from :meth:`features`."""
        return self.body.net[-1](f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.features(x))


def generator_mlp(
    noise_dim: int, data_dim: int, width: int, depth: int, activation: str
) -> Generator:
    return Generator(noise_dim, data_dim, width, depth, activation)


def discriminator_mlp(data_dim: int, width: int, depth: int, activation: str) -> Discriminator:
    return Discriminator(data_dim, width, depth, activation)
