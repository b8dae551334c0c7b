"""Layers that let a discriminator judge samples jointly rather than one at a time.

Each answers mode collapse the same way: a D that sees several samples at once can tell a
minibatch of near-identical fakes from a minibatch of real, varied samples, and G is pushed to
spread out. Pure functions on tensors, with thin modules around those that hold parameters.

- :func:`pack_samples` - PacGAN (Lin et al. 2018): D scores packs of m samples.
- :func:`minibatch_std` - ProGAN's minibatch standard deviation (Karras et al. 2018, sec. 3).
- :class:`MinibatchDiscrimination` - Salimans et al. (2016), sec. 3.2.
- :func:`spectral_normalize` - spectral normalisation (Miyato et al. 2018) of linear layers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from gankit.errors import GankitError


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """PacGAN packing (Lin et al. 2018, "PacGAN: the power of two samples in generative
    adversarial networks", sec. 3): ``(n, dim) -> (n / m, m * dim)``, pack ``j`` being the
    consecutive samples ``j*m .. j*m + m - 1`` concatenated. D then outputs one score per pack.

    Raises `GankitError` naming ``model.pack`` when ``m`` does not divide ``n``."""
    if pack == 1:
        return x
    n = x.shape[0]
    if n % pack != 0:
        raise GankitError(
            f"model.pack = {pack}: a minibatch of {n} samples does not split into packs of "
            f"{pack} (make train.batch_size a multiple of model.pack)"
        )
    return x.reshape(n // pack, pack * x[0].numel())


def minibatch_std(f: Tensor, group: int | None = None, eps: float = 1e-8) -> Tensor:
    """The minibatch standard deviation of ProGAN (Karras et al. 2018, "Progressive growing of
    GANs", sec. 3; ``minibatch_stddev_layer`` of their code): ``(n, F) -> (n, 1)``.

    Within each group, the std over the group of every feature (population std, divided by the
    group size, ``sqrt(var + eps)``), averaged over the features, is one number given to every
    member of the group. ``group`` (default: the whole minibatch, ``n``) must divide ``n``; as in
    ProGAN the groups are strided: sample ``i`` is in group ``i % (n / group)``. Append the result
    to the features with ``torch.cat([f, minibatch_std(f)], 1)``."""
    n = f.shape[0]
    g = n if group is None else min(group, n)
    if n % g != 0:
        raise ValueError(f"minibatch_std: group {g} does not divide the minibatch of {n}")
    y = f.reshape(g, n // g, -1)  # y[k, j] = f[k * (n / g) + j]: group j, member k
    std = (y.var(0, unbiased=False) + eps).sqrt()  # (n / g, F)
    per_group = std.mean(1, keepdim=True)  # (n / g, 1)
    return per_group.repeat(g, 1)  # back to sample order: row i -> group i % (n / g)


def minibatch_features(f: Tensor, T: Tensor, kernels: int, include_self: bool = False) -> Tensor:
    """Minibatch discrimination (Salimans et al. 2016, "Improved techniques for training GANs",
    sec. 3.2): ``f (n, A)``, ``T (A, B * C)`` -> ``o (n, B)``.

    ``M = f T`` reshaped to ``(n, B, C)``; ``c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)``;
    ``o(x_i)_b = sum_j c_b(x_i, x_j)``. The paper's sum runs over all j, which adds the constant
    ``exp(0) = 1``; the authors' code (``MinibatchLayer`` of openai/improved-gan) leaves ``j = i``
    out, and so does this function unless ``include_self``."""
    n = f.shape[0]
    m = (f @ T).reshape(n, kernels, -1)  # (n, B, C)
    # (n, n, B): ||M_i,b - M_j,b||_1. torch.cdist(p=1) is twice as fast but has no double
    # backward, which R1/GP penalties and unrolling need.
    dist = (m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(-1)
    c = torch.exp(-dist)
    o = c.sum(1)  # (n, B)
    return o if include_self else o - 1.0  # c_b(x_i, x_i) = exp(0) = 1 exactly


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. (2016) sec. 3.2 as a layer: ``(n, A) -> (n, B)`` closeness of each
    sample's features to the rest of its minibatch (see :func:`minibatch_features`; ``j = i`` is
    left out, as in the authors' code). ``T`` is drawn from N(0, 0.05^2), their initialisation."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int):
        super().__init__()
        self.kernels = kernels
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.05)

    def forward(self, f: Tensor) -> Tensor:
        return minibatch_features(f, self.T, self.kernels)


class MinibatchStd(nn.Module):
    """:func:`minibatch_std` as a layer (no parameters): ``(n, F) -> (n, 1)``."""

    def __init__(self, group: int | None = None):
        super().__init__()
        self.group = group

    def forward(self, f: Tensor) -> Tensor:
        return minibatch_std(f, self.group)


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018, "Spectral normalization for generative
    adversarial networks"): every ``nn.Linear`` inside ``module`` gets its weight divided by its
    largest singular value, estimated by one power iteration per training-mode forward
    (``torch.nn.utils.parametrizations.spectral_norm``), so each layer is 1-Lipschitz.

    The parametrisation keeps the raw weight as ``...parametrizations.weight.original`` and the
    power-iteration vectors ``_u``/``_v`` as buffers: all are in ``state_dict`` (checkpoints
    restore the estimate exactly), ``torch.func.functional_call`` accepts the raw weights, and
    the normalised weight is twice differentiable (R1/GP penalties). Returns ``module``."""
    for layer in list(module.modules()):
        if isinstance(layer, nn.Linear):
            spectral_norm(layer)
    return module
