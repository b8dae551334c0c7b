"""A finite pool of points with sampling weights: the data source of AdaGAN's rounds
(Tolstikhin et al. 2017), which reweight one pool drawn once from the data."""

from __future__ import annotations

import torch

from gankit.data.batch import Batch


class WeightedPool:
    """A finite pool ``(N, dim)`` with sampling weights ``(N,)`` (uniform when omitted); draws
    with replacement. ``sample(n, generator) -> (n, dim)``; ``batch`` wraps it in a `Batch`."""

    kind = "toy"

    def __init__(self, points: torch.Tensor, weights: torch.Tensor | None = None):
        self.points = points.float()
        self.dim = points.shape[1]
        n = points.shape[0]
        self.weights = (
            torch.full((n,), 1.0 / n, dtype=torch.float64) if weights is None else weights.double()
        )
        if self.weights.shape != (n,) or bool((self.weights < 0).any()):
            raise ValueError("weights: expected (N,) nonnegative values")
        self._on: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = generator.device if generator is not None else torch.device("cpu")
        key = str(device)
        if key not in self._on:
            self._on[key] = (self.points.to(device), self.weights.to(device))
        points, weights = self._on[key]
        idx = torch.multinomial(weights, n, replacement=True, generator=generator)
        return points[idx]

    def batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        return Batch(self.sample(n, generator))
