"""K-means clusters as the labels a conditional GAN reads (``data.clusters``, the
self-conditioned GAN): the clusters of separable images are their groups, held-out images take
their nearest centre, a clustered run's data keeps its classes for evaluation, and the key is
refused where nothing reads it."""

from __future__ import annotations

import numpy as np
import pytest

from gankit import config as config_mod
from gankit.data.clusters import clustered_splits, nearest_centre
from gankit.data.datasets.dataset import ImageDataset
from gankit.data.sources import build_data
from gankit.errors import GankitError
from gankit.recipes import check_config


def _blobs(n: int, seed: int) -> tuple[ImageDataset, np.ndarray]:
    """``n`` 1x4x4 images of three separable groups (dark, bright left half, bright right
    half) with noise, labelled by an unrelated class; returns the group of each image too."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    images = rng.uniform(0.0, 0.1, (n, 1, 4, 4)).astype(np.float32)
    images[group == 1, :, :, :2] += 0.8
    images[group == 2, :, :, 2:] += 0.8
    labels = rng.integers(0, 2, n)
    return ImageDataset("blobs", images, labels, ("a", "b"), "test"), group


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings split the items alike (equal up to renaming)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_clusters_of_separable_images_are_their_groups_and_heldout_takes_the_nearest():
    train, train_group = _blobs(90, 0)
    heldout, held_group = _blobs(30, 1)
    by_cluster, held_by_cluster = clustered_splits(train, heldout, 3)
    assert _same_partition(by_cluster.labels, train_group)
    mapping = dict(zip(train_group.tolist(), by_cluster.labels.tolist()))
    assert held_by_cluster.labels.tolist() == [mapping[g] for g in held_group.tolist()]
    assert by_cluster.classes == ("cluster 0", "cluster 1", "cluster 2")
    assert np.array_equal(by_cluster.images, train.images)


def test_nearest_centre_by_hand():
    dataset = ImageDataset(
        "two", np.array([[[[0.1]]], [[[0.9]]], [[[0.4]]]], np.float32), None, None, "test"
    )
    centres = np.array([[0.0], [1.0]], np.float32)
    assert nearest_centre(dataset, centres).tolist() == [0, 1, 0]


@pytest.mark.parametrize("k", [1, 91])
def test_cluster_counts_outside_two_to_n_are_refused_naming_the_key(k):
    train, _ = _blobs(90, 0)
    with pytest.raises(GankitError, match=f"data.clusters = {k}"):
        clustered_splits(train, train, k)


def test_a_clustered_runs_data_keeps_its_classes_for_evaluation():
    config = config_mod.resolve(preset="digits", overrides=["data.clusters=12"])
    data = build_data(config)
    plain = build_data(config_mod.resolve(preset="digits"))
    assert data.label_kind == "cluster" and plain.label_kind == "class"
    assert np.array_equal(data.train.labels, plain.train.labels)  # classes, for the metrics
    assert data.num_classes == 10 and data.source.num_classes == 12
    clusters = data.condition_labels("train")
    assert np.array_equal(data.source.dataset.labels, clusters)
    assert set(np.unique(clusters).tolist()) == set(range(12))
    assert len(data.condition_labels("heldout")) == len(data.heldout)
    assert np.array_equal(plain.condition_labels("train"), plain.train.labels)


@pytest.mark.parametrize(
    "overrides",
    [
        ["data.clusters=10", "model.conditional=false"],
        ["data.clusters=10", "model.family=vae"],
    ],
)
def test_clusters_are_refused_where_no_conditional_gan_reads_them(overrides):
    config = config_mod.resolve(preset="digits", overrides=overrides)
    with pytest.raises(GankitError, match="data.clusters = 10"):
        check_config(config)
