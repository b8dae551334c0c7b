"""Hungarian matching of code values to classes (`gankit.metrics.matching`)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gankit.metrics.matching import (
    UNMATCHED,
    apply_matching,
    best_matching,
    confusion_matrix,
    matched_accuracy,
)


def test_a_permuted_diagonal_confusion_matrix_is_unpermuted():
    rng = np.random.default_rng(0)
    k = 10
    base = np.diag(rng.integers(50, 100, k)) + rng.integers(0, 5, (k, k))
    perm = rng.permutation(k)
    confusion = base[:, perm]  # code i's images land in class perm^-1(i)
    matching = best_matching(confusion)
    assert np.array_equal(matching, np.argsort(perm))
    expected = np.trace(base) / base.sum()
    assert matched_accuracy(confusion, matching) == pytest.approx(expected)


def test_the_matching_beats_every_other_one_to_one_assignment():
    rng = np.random.default_rng(1)
    confusion = rng.integers(0, 20, (5, 5))
    best = max(sum(confusion[i, p[i]] for i in range(5)) for p in itertools.permutations(range(5)))
    matching = best_matching(confusion)
    assert sorted(matching) == list(range(5))  # one to one
    assert matched_accuracy(confusion, matching) == pytest.approx(best / confusion.sum())


def test_greedy_is_not_what_is_done():
    # greedy by rows would give code 0 -> class 0 (6), code 1 -> class 1 (1): 7; the best is
    # code 0 -> class 1 (5) and code 1 -> class 0 (5): 10
    confusion = np.array([[6, 5], [5, 1]])
    assert list(best_matching(confusion)) == [1, 0]
    assert matched_accuracy(confusion, [1, 0]) == pytest.approx(10 / 17)


def test_more_codes_than_classes_leaves_codes_unmatched_and_wrong():
    confusion = np.array([[4, 0], [0, 3], [2, 1]])
    matching = best_matching(confusion)
    assert list(matching) == [0, 1, UNMATCHED]
    assert matched_accuracy(confusion, matching) == pytest.approx(7 / 10)
    assert list(apply_matching([2, 0, 1], matching)) == [UNMATCHED, 0, 1]


def test_confusion_matrix_counts_pairs_and_refuses_bad_values():
    counts = confusion_matrix([0, 0, 1, 2, 2, 2], [1, 1, 0, 2, 2, 0], 3, 3)
    assert counts.tolist() == [[0, 2, 0], [1, 0, 0], [1, 0, 2]]
    with pytest.raises(ValueError, match="codes must lie"):
        confusion_matrix([3], [0], 3, 3)
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix([0, 1], [0], 3, 3)
    with pytest.raises(ValueError, match="2-D"):
        best_matching(np.zeros((0, 3)))
