"""Multi-layer perceptrons for toy generators and discriminators."""

from __future__ import annotations

import torch
from torch import nn

from gankit.errors import GankitError
from gankit.nets.layers import (
    MinibatchDiscrimination,
    MinibatchStd,
    pack_samples,
    spectral_normalize,
)

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
}


def activation_module(name: str) -> nn.Module:
    """A fresh activation module by its config name (``model.activation``)."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation '{name}'; known: {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]()


class MLP(nn.Module):
    """``(n, in_dim) -> (n, out_dim)``: ``depth`` hidden layers of ``width`` units, linear out."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
        activation: str,
        head_extra: int = 0,
    ):
        """``head_extra`` widens the output layer's input by that many features, appended
        between the last hidden layer and the output layer by the caller (minibatch layers of
        D); ``forward`` is then not usable on its own."""
        super().__init__()
        activation_module(activation)  # an unknown name fails here, whatever the depth
        layers: list[nn.Module] = []
        last = in_dim
        for _ in range(depth):
            layers += [nn.Linear(last, width), activation_module(activation)]
            last = width
        layers.append(nn.Linear(last + head_extra, out_dim))
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
    computed by an MLP on standardised inputs; with packing, one score per pack ``(n / m, 1)``.

    Split in two so that losses can read D's hidden representation (feature matching, Salimans
    et al. 2016, sec. 3.1): ``features(x) -> (n', F)``, the last hidden layer's activations (the
    standardised, packed input itself when ``depth = 0``) followed by any minibatch layers, and
    ``score(f) -> (n', 1)``, the final linear layer; ``forward(x) == score(features(x))``. With
    ``identity_classes = k > 0`` a second linear head on the same features,
    ``identity(f) -> (n', k)``, gives logits of which of k generators made each sample (MAD-GAN,
    Ghosh et al. 2018). ``n' = n / pack``; ``F = width`` (or ``pack * data_dim`` at depth 0),
    ``+ 1`` with ``minibatch_std``, ``+ minibatch_kernels``.

    Remedies, each off by default (the default D is the plain MLP, parameter for parameter):

    - ``pack = m`` (PacGAN, Lin et al. 2018): m consecutive samples are concatenated and judged
      jointly (:func:`gankit.nets.layers.pack_samples`); ``n`` must be a multiple of m.
    - ``minibatch_std`` (Karras et al. 2018): the minibatch's mean feature std, one feature.
    - ``minibatch_kernels = B > 0`` (Salimans et al. 2016, sec. 3.2): B closeness features, each
      from a kernel of dimension ``minibatch_kernel_dim = C``.
    - ``spectral_norm`` (Miyato et al. 2018): every linear layer (score and identity heads
      included) divided by its largest singular value.

    In eval mode (``D.eval()``, as the snapshots and the report call it) a packed D scores each
    input point as a pack of m copies of itself, so that ``D(x)`` is ``(n, 1)`` and the 1-D plots
    can draw D over a grid, the way BatchNorm swaps batch statistics for fixed ones in eval mode.
    Minibatch layers keep computing their statistics over whatever batch they are given, so D's
    score is not a function of single points: ``pointwise`` is then False."""

    def __init__(
        self,
        data_dim: int,
        width: int,
        depth: int,
        activation: str,
        *,
        pack: int = 1,
        minibatch_std: bool = False,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        identity_classes: int = 0,
        spectral_norm: bool = False,
    ):
        super().__init__()
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        self.pack = pack
        self.standardize = Standardize(data_dim)
        in_dim = pack * data_dim
        hidden = width if depth > 0 else in_dim
        extra = int(minibatch_std) + minibatch_kernels
        self.body = MLP(in_dim, 1, width, depth, activation, head_extra=extra)
        self.mb_std = MinibatchStd() if minibatch_std else None
        self.mb_disc = (
            MinibatchDiscrimination(hidden, minibatch_kernels, minibatch_kernel_dim)
            if minibatch_kernels > 0
            else None
        )
        self.identity_head = (
            nn.Linear(hidden + extra, identity_classes) if identity_classes > 0 else None
        )
        self.pointwise = extra == 0
        if spectral_norm:
            spectral_normalize(self)

    def _packs(self, x: torch.Tensor) -> torch.Tensor:
        if self.pack > 1 and not self.training:
            x = x.repeat_interleave(self.pack, 0)  # eval: each point is a pack of its copies
        return pack_samples(x, self.pack)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, data_dim) -> (n', F)``: the activations the score layer reads."""
        f = self.body.net[:-1](self._packs(self.standardize(x)))
        extras = []
        if self.mb_std is not None:
            extras.append(self.mb_std(f))
        if self.mb_disc is not None:
            extras.append(self.mb_disc(f))
        return torch.cat([f, *extras], 1) if extras else f

    def score(self, f: torch.Tensor) -> torch.Tensor:
        """``(n', F) -> (n', 1)``: raw scores of features from :meth:`features`."""
        return self.body.net[-1](f)

    def identity(self, f: torch.Tensor) -> torch.Tensor:
        """``(n', F) -> (n', k)``: logits of which generator made each sample (MAD-GAN's
        identity head). Raises `GankitError` when D was built without one."""
        if self.identity_head is None:
            raise GankitError(
                "D has no identity head: it needs model.generators > 1 and game.diversity > 0"
            )
        return self.identity_head(f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.features(x))


def generator_mlp(
    noise_dim: int, data_dim: int, width: int, depth: int, activation: str
) -> Generator:
    return Generator(noise_dim, data_dim, width, depth, activation)


def discriminator_mlp(data_dim: int, width: int, depth: int, activation: str) -> Discriminator:
    return Discriminator(data_dim, width, depth, activation)
