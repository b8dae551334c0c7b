"""Training sources: what the trainer draws minibatches from, each returning a `Batch`.

A source has ``kind`` (the kind of data, which picks the evaluator: ``"toy"``, ``"images"``) and
``batch(n, generator) -> Batch``, drawing only from the given ``torch.Generator`` (the trainer's
data stream, restored on resume, so that a resumed run draws the same minibatches).

* `ToySource`: a toy density, every minibatch fresh from it (the default for toys);
* `gankit.data.finite.TrainingSet`: a finite training set drawn once from a toy
  (``data.train_size``), minibatches with replacement;
* `gankit.data.weighted.WeightedPool`: a finite pool with sampling weights (AdaGAN's rounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.config import Config, DataConfig
from gankit.data.batch import Batch
from gankit.data.finite import TrainingSet
from gankit.data.toy import ToyDistribution, make_toy, toy_names
from gankit.errors import GankitError


class ToySource:
    """A toy distribution as a training source: ``batch(n) = Batch(distribution.sample(n))``."""

    kind = "toy"

    def __init__(self, distribution: ToyDistribution):
        self.distribution = distribution
        self.dim = distribution.dim

    def batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        return Batch(self.distribution.sample(n, generator))


def data_kind(data: DataConfig) -> str:
    """``"toy"`` for the toy densities; the evaluator and the nets are chosen by it."""
    if data.name in toy_names():
        return "toy"
    raise GankitError(f"data.name: unknown data '{data.name}'; known: {', '.join(toy_names())}")


def build_toy(data: DataConfig) -> ToyDistribution:
    """The toy distribution of ``data.name`` with ``data.params``; errors name the key."""
    try:
        return make_toy(data.name, **data.params)
    except TypeError as exc:
        raise GankitError(f"data.params: {exc}") from None
    except ValueError as exc:
        raise GankitError(f"data.name/params: {exc}") from None


def toy_source(
    data: DataConfig, distribution: ToyDistribution, seed: int
) -> ToySource | TrainingSet:
    """The run's training source: fresh draws (``data.train_size = 0``) or a finite training
    set of that size drawn once with ``seed``."""
    if data.train_size:
        return TrainingSet(distribution, data.train_size, seed)
    return ToySource(distribution)


@dataclass
class ToyData:
    """A run's toy data: the exact ``distribution`` (what evaluation compares against) and the
    training ``source`` (the distribution itself, or a finite training set drawn from it)."""

    distribution: ToyDistribution
    source: ToySource | TrainingSet
    kind: str = "toy"

    @property
    def dim(self) -> int:
        return self.distribution.dim

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Fresh ``(n, dim)`` samples of the distribution (fits the nets' standardisation)."""
        return self.distribution.sample(n, generator)


def build_data(config: Config) -> ToyData:
    """The data of a run, by its kind (``data.name``); errors name the key."""
    data_kind(config.data)
    distribution = build_toy(config.data)
    return ToyData(distribution, toy_source(config.data, distribution, config.train.seed))
