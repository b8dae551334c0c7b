"""Training sources: what the trainer draws minibatches from, each returning a `Batch`.

A source has ``kind`` (the kind of data, which picks the evaluator: ``"toy"``, ``"images"``) and
``batch(n, generator) -> Batch``, drawing only from the given ``torch.Generator`` (the trainer's
data stream, restored on resume, so that a resumed run draws the same minibatches).

* `ToySource`: a toy density, every minibatch fresh from it (the default for toys);
* `gankit.data.finite.TrainingSet`: a finite training set drawn once from a toy
  (``data.train_size``), minibatches with replacement;
* `gankit.data.weighted.WeightedPool`: a finite pool with sampling weights (AdaGAN's rounds);
* `gankit.data.datasets.ImageSource`: an image dataset's training split (images in [-1, 1]).

`build_data` turns a config into the run's data: `ToyData` (the exact distribution and the
source) or `ImageData` (the training and held-out splits and the source), by `data_kind`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gankit.config import Config, DataConfig
from gankit.data.batch import Batch
from gankit.data.clusters import clustered_splits
from gankit.data.datasets import ImageDataset, ImageSource, dataset_names, load_splits
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


#: the seed of every split and subset of an image dataset: fixed, so that runs of different
#: ``train.seed`` train and are evaluated on the same images
SPLIT_SEED = 0


def data_kind(data: DataConfig) -> str:
    """``"toy"`` for the toy densities, ``"images"`` for the image datasets; the evaluator and
    the nets are chosen by it. `GankitError` naming ``data.name`` for anything else."""
    if data.name in toy_names():
        return "toy"
    if data.name in dataset_names():
        return "images"
    known = ", ".join([*toy_names(), *dataset_names()])
    raise GankitError(f"data.name: unknown data '{data.name}'; known: {known}")


def build_toy(data: DataConfig) -> ToyDistribution:
    """The toy distribution of ``data.name`` with ``data.params``; errors name the key."""
    try:
        return make_toy(data.name, **data.params)
    except GankitError:
        raise  # already names data.params.KEY
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


@dataclass
class ImageData:
    """A run's image data: the ``train`` split (what the ``source`` serves, in [-1, 1]) and the
    ``heldout`` split (what evaluation compares against, never trained on)."""

    name: str
    train: ImageDataset
    heldout: ImageDataset
    source: ImageSource
    kind: str = "images"
    #: the labels a conditional G and D read where they are not the classes (``data.clusters``):
    #: ``(train, heldout)`` k-means cluster indices, ``(N,)`` int64; None: they read the classes
    clusters: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return self.train.shape

    @property
    def num_classes(self) -> int:
        """The dataset's classes (what the feature space and class-reading metrics count)."""
        return self.train.num_classes

    @property
    def label_kind(self) -> str:
        """What a conditional G and D read: ``"class"`` or ``"cluster"`` (``data.clusters``),
        which a metric that reads classes (class agreement, intra-class FID) must not take for
        classes."""
        return "class" if self.clusters is None else "cluster"

    def condition_labels(self, split: str) -> np.ndarray | None:
        """``(N,)`` labels a conditional G and D read for ``split`` (``"train"`` or
        ``"heldout"``): a clustered run's clusters, else the split's classes (None without)."""
        if self.clusters is not None:
            return self.clusters[0 if split == "train" else 1]
        return (self.train if split == "train" else self.heldout).labels


class DeferredImageData:
    """An image run's data for a loaded model: ``kind``, ``shape`` and ``num_classes`` (what
    its nets were built for, read from its checkpoint) at once; the splits are read only when
    something asks for them (an evaluation), then kept. `gankit sample` never does."""

    kind = "images"
    deferred = True

    def __init__(self, config: Config, shape, num_classes: int):
        self._config = config
        self.shape = tuple(int(v) for v in shape)
        self.num_classes = int(num_classes)
        self._data: ImageData | None = None

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_config", "_data"):
            raise AttributeError(name)
        if self._data is None:
            self._data = build_data(self._config)
        return getattr(self._data, name)


def load_image_data(data: DataConfig) -> ImageData:
    """The (train, held-out) splits of ``data.name`` shaped as ``data.image_size`` /
    ``data.channels`` say; with ``data.train_size = N``, a seeded subset of N training images.
    ``data.params`` (a toy's parameters) means nothing here and is refused, naming its key."""
    if data.params:
        key = next(iter(data.params))
        raise GankitError(
            f"data.params.{key}: image data ({data.name}) takes no parameters; the toys do"
        )
    train, heldout = load_splits(
        data.name,
        data.path or None,
        image_size=data.image_size or None,
        channels=data.channels or None,
        resize_filter=data.resize_filter,
        heldout_fraction=data.heldout_fraction,
        seed=SPLIT_SEED,
    )
    if data.train_size:
        if data.train_size > len(train):
            raise GankitError(
                f"data.train_size = {data.train_size}: the training split of {data.name} has "
                f"only {len(train)} images"
            )
        keep = np.random.default_rng(SPLIT_SEED).permutation(len(train))[: data.train_size]
        train = train.subset(np.sort(keep))
    if data.clusters:
        by_cluster, heldout_by_cluster = clustered_splits(train, heldout, data.clusters)
        clusters = (by_cluster.labels, heldout_by_cluster.labels)
        return ImageData(data.name, train, heldout, ImageSource(by_cluster), clusters=clusters)
    return ImageData(data.name, train, heldout, ImageSource(train))


def build_data(config: Config) -> ToyData | ImageData:
    """The data of a run, by its kind (``data.name``); errors name the key or the file."""
    if data_kind(config.data) == "images":
        return load_image_data(config.data)
    distribution = build_toy(config.data)
    return ToyData(distribution, toy_source(config.data, distribution, config.train.seed))


def data_for_model(config: Config, inputs: dict):
    """A run's data for loading its model: where its checkpoint says what the nets were built
    for (``inputs``: an image run's ``shape`` and ``num_classes``), a `DeferredImageData` that
    reads no image until asked; otherwise `build_data` (toys are cheap to build)."""
    shape, classes = inputs.get("shape"), inputs.get("num_classes")
    valid = (
        isinstance(shape, list)
        and len(shape) == 3
        and all(isinstance(v, int) and v > 0 for v in shape)
        and isinstance(classes, int)
        and classes >= 0
    )
    if valid and data_kind(config.data) == "images":
        return DeferredImageData(config, shape, classes)
    return build_data(config)
