"""Probabilistic PCA as a generator with an exact likelihood (Tipping & Bishop 1999).

``x = mu + W z + sigma * eps``, ``z ~ N(0, I_q)``, ``eps ~ N(0, I_D)``: the marginal is the
Gaussian ``N(mu, W W^T + sigma^2 I)``, whose ``log_prob`` is exact (a low-rank-plus-diagonal
`torch.distributions.LowRankMultivariateNormal`). Its fit is not here (the nets layer does not
import the game layer): `gankit.game.pca.ppca_fit` gives ``W`` and ``sigma^2`` in closed form,
and the family's trainable moves the parameters onto them through the loop
(`gankit.recipes.pca.step`).

Points ``(n, D)`` are modelled as they are; images ``(n, C, H, W)`` in the nets' [-1, 1]
flattened to ``D = C H W``. Parameters are float64 (a 784-dimensional covariance in float32
loses the small eigenvalues); they are `nn.Parameter`\\ s without gradients of their own, so that
the loop's optimizer can step them (the trainable writes their ``.grad``) and checkpoints hold
them by name.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.distributions import LowRankMultivariateNormal


def _fixed(t: Tensor) -> nn.Parameter:
    return nn.Parameter(t, requires_grad=False)


class ProbabilisticPCA(nn.Module):
    """``mean (D,)``, ``weight (D, q)`` and ``sigma2 ()`` of probabilistic PCA of data shaped
    ``data_shape`` (``(dim,)`` or ``(C, H, W)``); starts as the standard normal (W = 0, sigma^2
    = 1) until fitted."""

    def __init__(self, data_shape: tuple[int, ...], components: int):
        super().__init__()
        self.data_shape = tuple(int(v) for v in data_shape)
        self.images = len(self.data_shape) == 3
        self.dim = math.prod(self.data_shape)
        self.components = int(components)
        self.mean = _fixed(torch.zeros(self.dim, dtype=torch.float64))
        self.weight = _fixed(torch.zeros(self.dim, self.components, dtype=torch.float64))
        self.sigma2 = _fixed(torch.ones((), dtype=torch.float64))

    def flatten(self, x: Tensor) -> Tensor:
        """``(n, *data_shape) -> (n, D)`` in float64."""
        return x.reshape(x.shape[0], self.dim).double()

    def distribution(self) -> LowRankMultivariateNormal:
        """The marginal ``N(mean, W W^T + sigma^2 I)`` over flattened points."""
        diag = self.sigma2.expand(self.dim)
        return LowRankMultivariateNormal(self.mean, self.weight, diag)

    @torch.no_grad()
    def log_prob(self, x: Tensor) -> Tensor:
        """``(n,)`` exact ``log p(x)`` in nats of points or images ``x (n, *data_shape)``, in
        the units ``x`` comes in (images: the nets' [-1, 1], each of the D values a density)."""
        return self.distribution().log_prob(self.flatten(x))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``(n, *data_shape)`` float32 draws ``mu + W z + sigma eps`` (z then eps drawn from
        ``generator``); images clamped to [-1, 1], the range of the data it was fitted to."""
        z = torch.randn((n, self.components), generator=generator, dtype=torch.float64)
        eps = torch.randn((n, self.dim), generator=generator, dtype=torch.float64)
        x = self.mean + z @ self.weight.T + self.sigma2.sqrt() * eps
        x = x.float().reshape(n, *self.data_shape)
        return x.clamp(-1.0, 1.0) if self.images else x


__all__ = ["ProbabilisticPCA"]
