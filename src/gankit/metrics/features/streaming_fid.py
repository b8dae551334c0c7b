"""FID accumulated batch by batch over float64 statistics (torchmetrics' ``update`` /
``compute``), optionally extracting the features of image batches first."""

from __future__ import annotations

import torch

from gankit.errors import GankitError
from gankit.metrics.features.registry import get_extractor
from gankit.metrics.fid import check_fid_sample_count
from gankit.metrics.frechet import frechet_distance
from gankit.metrics.streaming import GaussianStats


class StreamingFID:
    """FID accumulated batch by batch: ``update(x, real=True|False)`` then ``compute()``.

    ``extractor`` is optional: without it ``update`` takes feature batches ``(B, d)``; with a
    `gankit.metrics.features.Extractor` (or anything `get_extractor` accepts) it takes image
    batches ``(B, C, H, W)`` and extracts their features first. ``require_full_rank`` keeps the
    refusal of `gankit.metrics.fid` (fewer samples than dimensions); set it False to get the
    Fréchet distance of rank-deficient statistics anyway.
    """

    def __init__(self, extractor=None, require_full_rank: bool = True):
        if extractor is not None:
            extractor = get_extractor(extractor)
        self.extractor = extractor
        self.require_full_rank = require_full_rank
        self.real = GaussianStats()
        self.fake = GaussianStats()

    def reset(self) -> None:
        self.real, self.fake = GaussianStats(), GaussianStats()

    @torch.no_grad()
    def update(self, x, real: bool) -> None:
        if self.extractor is not None:
            x, _ = self.extractor(x)
        (self.real if real else self.fake).update(x)

    def set_real_stats(self, stats: GaussianStats) -> None:
        """Use cached reference statistics for the real side."""
        self.real = stats

    def compute(self) -> float:
        for name, s in (("real", self.real), ("fake", self.fake)):
            if s.n == 0:
                raise GankitError(f"StreamingFID: no {name} samples were added")
            if self.require_full_rank:
                check_fid_sample_count(s.n, s.n_features, f"{name} samples")
        if self.real.n_features != self.fake.n_features:
            raise GankitError(
                f"real features are {self.real.n_features}-d but fake ones are "
                f"{self.fake.n_features}-d"
            )
        return frechet_distance(self.real.mean, self.real.cov, self.fake.mean, self.fake.cov)
