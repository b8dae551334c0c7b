"""The Dirac-GAN's players (Mescheder, Geiger & Nowozin 2018, sec. 2.2): one parameter each.

``G(z) = theta`` for every z (the generator is a point mass at theta) and ``D(x) = psi * x``
(a linear score without bias, read through the game's loss). With the data a point mass at 0
(the ``dirac`` toy) the unique equilibrium is ``(theta, psi) = (0, 0)``; the paper's figures start
at ``(1, 1)``. :mod:`gankit.game.dirac` integrates the same game in closed form.
"""

from __future__ import annotations

import torch
from torch import nn

#: The paper's start (theta, psi).
DIRAC_START = (1.0, 1.0)
#: Seeds other than 0 draw each start uniformly in 1 +- this.
DIRAC_START_SPREAD = 0.5


def dirac_start(seed: int) -> tuple[float, float]:
    """``(theta0, psi0)`` for a run's seed: the paper's (1, 1) for seed 0; otherwise each drawn
    uniformly in [0.5, 1.5] from a stream of its own (the runs of different seeds differ only in
    their start: the data and G's output are constant)."""
    if seed == 0:
        return DIRAC_START
    u = torch.rand(2, generator=torch.Generator().manual_seed(seed + 15485863), dtype=torch.float64)
    theta, psi = (1.0 + DIRAC_START_SPREAD * (2.0 * u - 1.0)).tolist()
    return theta, psi


class DiracGenerator(nn.Module):
    """G: noise ``(n, noise_dim)`` -> ``(n, 1)``, every row ``theta`` (one parameter)."""

    def __init__(self, theta: float = DIRAC_START[0]):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(float(theta)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.theta.to(z.dtype).expand(z.shape[0], 1)

    def readout(self) -> dict[str, float]:
        """The scalars the trainer logs with every row: the run's path in parameter space."""
        return {"theta": float(self.theta.detach())}


class DiracDiscriminator(nn.Module):
    """D: samples ``(n, 1)`` -> raw scores ``psi * x``, ``(n, 1)`` (one parameter, no bias).

    A function of single points (``pointwise``), so R1/R2 see ``dD/dx = psi``: the R1 penalty
    with weight ``w`` adds ``w * psi^2`` to D's loss (``w = gamma / 2`` in the paper's terms)."""

    pointwise = True

    def __init__(self, psi: float = DIRAC_START[1]):
        super().__init__()
        self.psi = nn.Parameter(torch.tensor(float(psi)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.psi * x.reshape(x.shape[0], 1)

    def readout(self) -> dict[str, float]:
        """The scalars the trainer logs with every row: the run's path in parameter space."""
        return {"psi": float(self.psi.detach())}
