"""Matching an unsupervised code's values to classes (Hungarian matching): how InfoGAN's
categorical code is scored against labels it never saw (Chen et al. 2016, sec. 7.1, as
unsupervised clustering accuracy is scored, e.g. Xie et al. 2016).

`confusion_matrix` counts (code, class) pairs; `best_matching` gives the one-to-one assignment
of codes to classes that maximises the matched count (`scipy.optimize.linear_sum_assignment`);
`matched_accuracy` the share of examples whose class is the one matched to their code (a code
left unmatched, where codes outnumber classes, counts as wrong).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

#: the class of a code that no class was matched to
UNMATCHED = -1


def confusion_matrix(codes, classes, n_codes: int, n_classes: int) -> np.ndarray:
    """``(n_codes, n_classes)`` int64 counts of each (code, class) pair; ``codes`` and
    ``classes`` ``(n,)`` ints in ``[0, n_codes)`` and ``[0, n_classes)``."""
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    if codes.shape != classes.shape:
        raise ValueError(f"codes {codes.shape} and classes {classes.shape} differ in length")
    for name, values, n in (("codes", codes, n_codes), ("classes", classes, n_classes)):
        if n < 1:
            raise ValueError(f"{name}: the count must be >= 1, got {n}")
        if values.size and (values.min() < 0 or values.max() >= n):
            raise ValueError(f"{name} must lie in [0, {n - 1}]")
    counts = np.zeros((n_codes, n_classes), dtype=np.int64)
    np.add.at(counts, (codes, classes), 1)
    return counts


def best_matching(confusion) -> np.ndarray:
    """``(n_codes,)`` int64: the class matched to each code (`UNMATCHED` for a code left over
    where codes outnumber classes), one-to-one, maximising the matched count."""
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or 0 in confusion.shape:
        raise ValueError(f"a confusion matrix is 2-D and non-empty, got {confusion.shape}")
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    matching = np.full(confusion.shape[0], UNMATCHED, dtype=np.int64)
    matching[rows] = cols
    return matching


def matched_accuracy(confusion, matching) -> float:
    """The share of the confusion matrix's examples whose class is the one ``matching`` gives
    their code (`best_matching`'s, or another); NaN for an empty matrix."""
    confusion = np.asarray(confusion)
    matching = np.asarray(matching, dtype=np.int64)
    total = confusion.sum()
    if total == 0:
        return float("nan")
    rows = np.flatnonzero(matching != UNMATCHED)
    return float(confusion[rows, matching[rows]].sum() / total)


def apply_matching(codes, matching) -> np.ndarray:
    """``(n,)`` the class each code is matched to (`UNMATCHED` where none)."""
    return np.asarray(matching, dtype=np.int64)[np.asarray(codes, dtype=np.int64)]
