"""scikit-learn's digits and gankit's fixed split of them."""

from __future__ import annotations

import numpy as np

from gankit.data.datasets import DIGITS_HELDOUT, digits_split_indices, split_digits
from gankit.data.datasets.digits import load_digits_dataset


def test_digits_dataset():
    d = load_digits_dataset()
    assert d.images.shape == (1797, 1, 8, 8) and d.images.dtype == np.float32
    assert d.images.min() == 0.0 and d.images.max() == 1.0
    assert np.array_equal(d.images * 16, np.round(d.images * 16))  # pixels / 16, exact
    assert d.classes == tuple("0123456789") and d.source == "sklearn"
    assert d.labels.dtype == np.int64 and set(d.labels) == set(range(10))


def test_fixed_split_sizes_disjoint_stratified_and_stable():
    d = load_digits_dataset()
    tr, ho = digits_split_indices(d.labels)
    assert DIGITS_HELDOUT == 297 and len(ho) == 297 and len(tr) == 1500
    assert not set(tr) & set(ho) and len(set(tr) | set(ho)) == 1797
    per_class = np.bincount(d.labels[ho], minlength=10)
    assert per_class.sum() == 297 and per_class.min() >= 28 and per_class.max() <= 31
    # pinned: a change here changes every held-out score of every run
    assert list(per_class) == [29, 30, 29, 30, 30, 30, 30, 30, 29, 30]
    assert ho[:8].tolist() == [2, 18, 29, 39, 40, 42, 43, 47]
    tr2, ho2 = digits_split_indices(d.labels.copy())
    assert np.array_equal(tr, tr2) and np.array_equal(ho, ho2)
    train, held = split_digits()
    assert len(train) == 1500 and len(held) == 297
    assert np.array_equal(held.images, d.images[ho]) and np.array_equal(held.labels, d.labels[ho])
    assert np.array_equal(train.images, d.images[tr])
