"""The moments trap: a discriminator that sees only a minibatch's mean and standard deviation.

The popular "GAN in 50 lines of PyTorch" 1-D demo (Dev Nag, 2017) feeds its discriminator
statistics of a whole batch rather than the samples. Any generator whose batches have the data's
moments is then indistinguishable from the data: G matches the mean and the std and nothing else
(an affine map of uniform noise stays uniform, excess kurtosis -1.2, where a Gaussian has 0).
`MomentsDiscriminator` reproduces that design on purpose (``model.d_input = "moments"``), so the
failure can be shown and cured (a per-sample D: the preset ``gaussian-1d-moments-fixed``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nets.layers import spectral_normalize
from gankit.nets.mlp import MLP, Standardize

MOMENTS_GROUP = 32


def group_moments(x: Tensor, group: int) -> Tensor:
    """``(n, dim) -> (n / g, 2 * dim)``: the mean and the (unbiased) std of every dimension over
    each group of ``g`` consecutive samples, ``[mean_1..mean_dim, std_1..std_dim]``.

    Raises `GankitError` naming ``train.batch_size`` when ``g`` does not divide ``n``."""
    n = x.shape[0]
    if n % group != 0:
        raise GankitError(
            f"model.d_input = 'moments': a minibatch of {n} samples does not split into groups "
            f"of {group} (make train.batch_size a multiple of {group})"
        )
    y = x.reshape(n // group, group, -1)
    return torch.cat([y.mean(1), y.std(1)], 1)


class MomentsDiscriminator(nn.Module):
    """D that sees a minibatch only through its moments: ``(n, dim) -> (n / g, 1)``, one raw
    score per group of ``g = group`` consecutive samples (several scores per minibatch, so that
    the losses average over groups), from an MLP on :func:`group_moments` of the standardised
    samples. ``features(x) -> (n / g, F)`` and ``score(f) -> (n / g, 1)`` as for
    `gankit.nets.mlp.Discriminator`.

    In eval mode each point is scored as a group of g copies of itself (mean x, std 0) so that
    ``D(x)`` is ``(n, 1)``; that is not a score of the point, and ``pointwise`` is False: the
    snapshots draw no D curve for it."""

    pointwise = False

    def __init__(
        self,
        data_dim: int,
        width: int,
        depth: int,
        activation: str,
        group: int = MOMENTS_GROUP,
        spectral_norm: bool = False,
    ):
        super().__init__()
        if group < 2:
            raise ValueError(f"group must be >= 2 to have a standard deviation, got {group}")
        self.group = group
        self.standardize = Standardize(data_dim)
        self.body = MLP(2 * data_dim, 1, width, depth, activation)
        if spectral_norm:
            spectral_normalize(self)

    def features(self, x: Tensor) -> Tensor:
        """``(n, data_dim) -> (n / g, F)``: hidden activations of the MLP on the moments."""
        x = self.standardize(x)
        if not self.training:
            x = x.repeat_interleave(self.group, 0)
        return self.body.net[:-1](group_moments(x, self.group))

    def score(self, f: Tensor) -> Tensor:
        """``(n / g, F) -> (n / g, 1)``: raw scores."""
        return self.body.net[-1](f)

    def forward(self, x: Tensor) -> Tensor:
        return self.score(self.features(x))
