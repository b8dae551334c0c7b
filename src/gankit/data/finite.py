"""A finite training set drawn once from a toy: the setting in which a discriminator can overfit.

A toy's density gives a fresh sample for every minibatch, so D never sees a point twice. Real
datasets are finite; :class:`TrainingSet` makes a toy behave like one (``data.train_size = N``):
N points drawn once from their own seeded stream (so a resumed run draws the same set), and
minibatches drawn from them uniformly with replacement from the trainer's data stream.
"""

from __future__ import annotations

import torch

from gankit.data.batch import Batch
from gankit.data.toy import ToyDistribution

#: offset of the training set's seed from ``train.seed``: a stream no other part of a run reads
TRAINING_SET_SEED_OFFSET = 7_919


class TrainingSet:
    """``size`` points ``(size, dim)`` of ``data``, drawn once with ``seed``; :meth:`sample`
    has the signature of ``ToyDistribution.sample``, :meth:`batch` is the source's."""

    kind = "toy"

    def __init__(self, data: ToyDistribution, size: int, seed: int):
        if size < 1:
            raise ValueError(f"a training set needs at least one point, got size={size}")
        gen = torch.Generator().manual_seed(seed + TRAINING_SET_SEED_OFFSET)
        self.points = data.sample(size, gen)
        self.dim = data.dim

    def __len__(self) -> int:
        return self.points.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` training points drawn uniformly with replacement: ``(n, dim)``."""
        index = torch.randint(len(self), (n,), generator=generator)
        return self.points[index]

    def batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        """A minibatch of ``n`` training points drawn with replacement."""
        return Batch(self.sample(n, generator))
