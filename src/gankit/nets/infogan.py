"""InfoGAN's nets (Chen et al. 2016): G reads latent codes beside its noise, and a Q head on
D's features predicts them back.

- `InfoGenerator`: ``G(z, c, c')`` = a DCGAN generator of ``[z, one-hot(c), c']``: noise ``z
  (n, noise_dim)``, a categorical code ``c (n,)`` of ``categories`` values, ``continuous``
  codes ``c' (n, m)`` (uniform on [-1, 1] in training; any value when traversing).
- `QHead`: ``Q(f)`` on D's ``features(x)`` (the DCGAN D contract, `gankit.nets.dcgan`), so Q
  shares D's whole body and costs one small MLP (the paper's sec. 6: "Q ... shares all
  convolutional layers with D"): ``Linear(F, width) -> LeakyReLU(0.2) -> Linear(width, K +
  m)``, split into the categorical logits ``(n, K)`` and the Gaussian means ``(n, m)`` of the
  continuous codes. Q's std is fixed at 1 (no log-std output), as the paper's released code
  (``fix_std``): a learned std lets the likelihood grow without bound on codes Q already
  reads well, which swamps the categorical term, and a fixed unit std makes the Gaussian term
  a plain squared error (times 1/2).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets.build import build_image_models
from gankit.nets.dcgan import DCGANGenerator, init_dcgan_weights


def check_codes(code: Tensor, code_continuous: Tensor, categories: int, continuous: int, n: int):
    """Refuse codes of the wrong shape or range with `ValueError` naming them."""
    if code.shape != (n,) or code.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"G expects a categorical code (n,) = ({n},) int64, got {code.shape}")
    if n and (int(code.min()) < 0 or int(code.max()) >= categories):
        raise ValueError(f"the categorical code must lie in [0, {categories - 1}]")
    if code_continuous.shape != (n, continuous):
        raise ValueError(
            f"G expects continuous codes ({n}, {continuous}), got {tuple(code_continuous.shape)}"
        )


class InfoGenerator(nn.Module):
    """``G(z, code, code_continuous) -> (n, C, S, S)`` in [-1, 1]: a `DCGANGenerator` (``net``)
    of ``noise_dim + categories + continuous`` inputs reading ``[noise_scale * z,
    one-hot(code), code_continuous]``."""

    def __init__(
        self,
        net: DCGANGenerator,
        noise_dim: int,
        categories: int,
        continuous: int,
        noise_scale: float = 1.0,
    ):
        super().__init__()
        if net.noise_dim != noise_dim + categories + continuous:
            raise ValueError("the DCGAN generator must read noise_dim + categories + continuous")
        self.net = net
        self.noise_dim, self.categories, self.continuous = noise_dim, categories, continuous
        self.noise_scale = noise_scale

    def forward(self, z: Tensor, code: Tensor, code_continuous: Tensor) -> Tensor:
        n = z.shape[0]
        if z.dim() != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"G expects noise (n, {self.noise_dim}), got {tuple(z.shape)}")
        check_codes(code, code_continuous, self.categories, self.continuous, n)
        one_hot = nn.functional.one_hot(code.long(), self.categories).to(z.dtype)
        if self.noise_scale != 1.0:
            z = z * self.noise_scale
        return self.net(torch.cat([z, one_hot, code_continuous.to(z.dtype)], 1))


class QHead(nn.Module):
    """Q's head on D's features: ``f (n, F) -> (logits (n, K), means (n, m))`` (see the module
    docstring; unit std)."""

    def __init__(self, feature_dim: int, categories: int, continuous: int, width: int = 128):
        super().__init__()
        self.categories, self.continuous = categories, continuous
        self.net = nn.Sequential(
            nn.Linear(feature_dim, width),
            nn.LeakyReLU(0.2),
            nn.Linear(width, categories + continuous),
        )
        init_dcgan_weights(self)

    def forward(self, f: Tensor) -> tuple[Tensor, Tensor]:
        out = self.net(f)
        return out[:, : self.categories], out[:, self.categories :]


def build_infogan_models(
    model: ModelConfig,
    shape: tuple[int, int, int],
    categories: int,
    continuous: int,
    q_width: int = 128,
    noise_scale: float = 1.0,
) -> tuple[InfoGenerator, nn.Module, QHead]:
    """``(G, D, Q)`` for images of ``shape``: DCGAN's G and D as ``model`` says
    (`gankit.nets.build.build_image_models`, its refusals included), G reading the codes
    beside ``model.noise_dim`` noise, Q on D's features. Refuses D's packing (Q reads one image
    at a time) and a class-conditional model, naming the key."""
    if model.pack > 1:
        raise GankitError(
            f"model.pack = {model.pack}: InfoGAN's Q reads one image's features at a time; use "
            "model.pack = 1"
        )
    if model.conditional:
        raise GankitError(
            "model.conditional: InfoGAN learns its categorical code without labels; leave "
            "model.conditional = false (its classes are infogan.categories)"
        )
    total = model.noise_dim + categories + continuous
    net, discriminator = build_image_models(dataclasses.replace(model, noise_dim=total), shape)
    generator = InfoGenerator(net, model.noise_dim, categories, continuous, noise_scale)
    q = QHead(discriminator.feature_dim, categories, continuous, q_width)
    return generator, discriminator, q


__all__ = ["InfoGenerator", "QHead", "build_infogan_models", "check_codes"]
