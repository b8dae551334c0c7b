"""scikit-learn's 8x8 handwritten digits, with one fixed train / held-out split.

The dataset ships with scikit-learn (nothing is downloaded): 1797 grey 8x8 images with pixel
values 0..16, labels 0..9. `load_digits_dataset` gives them as ``float32`` in [0, 1]
(pixels / 16, exact in binary floating point).

The split (`split_digits`) is fixed so that every run, metric and report compares against the
same held-out images: `DIGITS_HELDOUT` = 297 images held out, 1500 for training, stratified.
How: the 297 held-out places are shared among the classes in proportion to their sizes (largest
remainder: 29 or 30 a class, about 1/6 of each); then one ``numpy.random.default_rng(0)`` draws a
permutation of each class's indices in turn (classes 0, 1, ..., 9; indices ascending before the
permutation), and the last places of each permutation are held out. Both sides keep the
dataset's original order. Changing any of this changes every held-out score, so don't.
"""

from __future__ import annotations

import numpy as np

from gankit.data.datasets.dataset import ImageDataset

#: size of the fixed held-out split of the digits (the other 1500 are for training)
DIGITS_HELDOUT = 297
#: seed of the fixed split
DIGITS_SPLIT_SEED = 0
DIGITS_CLASSES = tuple(str(i) for i in range(10))


def load_digits_dataset() -> ImageDataset:
    """All 1797 digits: images ``(1797, 1, 8, 8)`` ``float32`` in [0, 1] (pixels / 16),
    labels ``int64`` 0..9, classes "0".."9", source "sklearn"."""
    from sklearn.datasets import load_digits  # heavy import (~1 s): only the digits need it

    bunch = load_digits()
    images = (bunch.images.astype(np.float32) / np.float32(16.0))[:, None, :, :]
    return ImageDataset(
        name="digits",
        images=np.ascontiguousarray(images),
        labels=bunch.target.astype(np.int64),
        classes=DIGITS_CLASSES,
        source="sklearn",
    )


def _heldout_per_class(counts: np.ndarray, total: int) -> np.ndarray:
    """``total`` places shared in proportion to ``counts`` (largest remainder, ties to the lower
    class index)."""
    share = counts * total / counts.sum()
    out = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - out), kind="stable")
    out[order[: total - out.sum()]] += 1
    return out


def digits_split_indices(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(train, heldout)`` indices of the fixed split (see the module docstring), ascending."""
    classes = np.unique(labels)
    counts = np.array([(labels == c).sum() for c in classes])
    held = _heldout_per_class(counts, DIGITS_HELDOUT)
    rng = np.random.default_rng(DIGITS_SPLIT_SEED)
    train, heldout = [], []
    for c, k in zip(classes, held):
        perm = rng.permutation(np.flatnonzero(labels == c))
        train.append(perm[: len(perm) - k])
        heldout.append(perm[len(perm) - k :])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(heldout))


def split_digits() -> tuple[ImageDataset, ImageDataset]:
    """The fixed split of the digits: ``(train, heldout)`` of 1500 and `DIGITS_HELDOUT` = 297
    images, disjoint, stratified, identical on every call and machine (module docstring)."""
    full = load_digits_dataset()
    train, heldout = digits_split_indices(full.labels)
    return full.subset(train), full.subset(heldout)
