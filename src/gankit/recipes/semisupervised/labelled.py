"""Which training images the semi-supervised GAN sees labelled: ``semi.labels_per_class`` per
class, drawn by ``train.seed``; the rest of the training split is its unlabelled pool.

Two sources, not one batch with a mask: D reads a labelled minibatch beside an unlabelled one
(as Salimans et al.'s code does), so each minibatch has the labelled share the config asks for
whatever the split's sizes, and `gankit.data.batch.Batch` keeps its two fields.
"""

from __future__ import annotations

import numpy as np

from gankit.data.datasets import ImageDataset, ImageSource
from gankit.errors import GankitError

#: added to ``train.seed`` for the labelled draw (apart from the seeds of the training streams)
LABEL_SEED_OFFSET = 15_485_863


def labelled_indices(labels: np.ndarray, per_class: int, num_classes: int, seed: int) -> np.ndarray:
    """Sorted indices of ``per_class`` examples of each of ``num_classes`` classes in
    ``labels (N,)``, each class's drawn without replacement by a generator seeded with
    ``seed``. `GankitError` naming ``semi.labels_per_class`` where a class has too few."""
    rng = np.random.default_rng(seed + LABEL_SEED_OFFSET)
    chosen = []
    for k in range(num_classes):
        members = np.flatnonzero(labels == k)
        if len(members) <= per_class:
            raise GankitError(
                f"semi.labels_per_class = {per_class}: class {k} has {len(members)} training "
                "images; it needs more (the rest are the unlabelled ones)"
            )
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def split_labelled(
    train: ImageDataset, per_class: int, seed: int
) -> tuple[ImageSource, ImageSource]:
    """(labelled source, unlabelled source) of the training split: `labelled_indices` and the
    rest. `GankitError` where the data has no labels."""
    if train.labels is None or train.num_classes < 2:
        raise GankitError(
            f"model.family = 'semi-supervised' needs labelled images of 2 classes or more; "
            f"{train.name} has none"
        )
    chosen = labelled_indices(train.labels, per_class, train.num_classes, seed)
    rest = np.setdiff1d(np.arange(len(train)), chosen)
    return ImageSource(train.subset(chosen)), ImageSource(train.subset(rest))
