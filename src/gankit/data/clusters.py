"""K-means clusters of a training split as the labels a conditional GAN reads (``data.clusters``).

The self-conditioned GAN (Liu et al. 2020, "Diverse image generation via self-conditioned
GANs") gives an unconditional GAN what the class input gives a conditional one: G(z, c) draws a
cluster c with its share of the training set, and D judges each image with its cluster, so G
cannot drift away from a part of the data without D seeing the part's share move. No class
label is read: the clusters are k-means (scikit-learn's ``KMeans``, k-means++ seeding) of the
training images' pixels, the held-out images labelled by their nearest centre. The clustering is
seeded by a constant, not by the run's seed: every run of a config (and every reload of it for
evaluation) reads the same clusters.
"""

from __future__ import annotations

import numpy as np

from gankit.data.datasets.dataset import ImageDataset
from gankit.errors import GankitError

#: the seed of k-means (a constant: a run reloaded for evaluation re-derives the same clusters)
CLUSTER_SEED = 0
#: k-means restarts, the best kept (lowest inertia)
CLUSTER_RESTARTS = 3


def _pixels(dataset: ImageDataset) -> np.ndarray:
    """``(N, C*H*W)`` float32 pixels in [0, 1]."""
    return dataset.as_float01().reshape(len(dataset), -1).astype(np.float32)


def kmeans_centres(train: ImageDataset, k: int) -> np.ndarray:
    """``(k, C*H*W)`` k-means centres of ``train``'s pixels. Raises `GankitError` naming
    ``data.clusters`` for k < 2 or more clusters than training images."""
    if k < 2 or k > len(train):
        raise GankitError(
            f"data.clusters = {k}: needs 2 <= K <= the {len(train)} training images "
            "(0 reads the dataset's own labels)"
        )
    from sklearn.cluster import KMeans  # heavy import (~1 s): only a clustered run needs it

    km = KMeans(n_clusters=k, n_init=CLUSTER_RESTARTS, random_state=CLUSTER_SEED)
    return km.fit(_pixels(train)).cluster_centers_.astype(np.float32)


def nearest_centre(dataset: ImageDataset, centres: np.ndarray) -> np.ndarray:
    """``(N,)`` int64: the index of each image's nearest centre (squared Euclidean)."""
    x = _pixels(dataset)
    d2 = (x * x).sum(1, keepdims=True) - 2.0 * x @ centres.T + (centres * centres).sum(1)
    return d2.argmin(1).astype(np.int64)


def relabel(dataset: ImageDataset, labels: np.ndarray, k: int) -> ImageDataset:
    """``dataset`` with ``labels`` (cluster indices) as its labels, classes named ``c0..``."""
    names = tuple(f"cluster {i}" for i in range(k))
    return ImageDataset(dataset.name, dataset.images, labels, names, dataset.source)


def clustered_splits(
    train: ImageDataset, heldout: ImageDataset, k: int
) -> tuple[ImageDataset, ImageDataset]:
    """``(train, heldout)`` labelled by ``k`` k-means clusters of ``train`` (module docstring)."""
    centres = kmeans_centres(train, k)
    return (
        relabel(train, nearest_centre(train, centres), k),
        relabel(heldout, nearest_centre(heldout, centres), k),
    )
