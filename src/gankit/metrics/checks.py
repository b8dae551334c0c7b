"""Validation shared by the metrics: feature arrays, logits, counts (images: `gankit.data.checks`).

Every metric refuses input on which its number would mean nothing (STYLE.md, "refuse clearly"):
non-2-D feature arrays, NaN or infinite values, mismatched feature dimensions, too few samples,
images of the wrong shape or of an implicit range. Each check raises `gankit.errors.GankitError`
with one line that names the argument at fault and what was found.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.errors import GankitError


def as_float64(x, name: str) -> np.ndarray:
    """Return ``x`` (numpy array or torch tensor) as a C-contiguous float64 numpy array."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.is_complex():
            raise GankitError(f"{name}: complex values are not features")
        x = x.to(torch.float64).numpy()
    else:
        x = np.asarray(x)
        if x.dtype == object or np.iscomplexobj(x):
            raise GankitError(f"{name}: expected a real numeric array, got dtype {x.dtype}")
        if x.dtype == bool:
            raise GankitError(f"{name}: expected a real numeric array, got booleans")
    return np.ascontiguousarray(x, dtype=np.float64)


def check_finite(x: np.ndarray, name: str) -> None:
    """Refuse NaN or infinite values, saying how many there are."""
    bad = ~np.isfinite(x)
    if bad.any():
        raise GankitError(
            f"{name}: {int(bad.sum())} non-finite value(s) (NaN or inf) in an array of shape "
            f"{tuple(x.shape)}; the feature extractor or the samples are broken"
        )


def check_features(x, name: str, min_samples: int = 1) -> np.ndarray:
    """Validate one feature array ``(n_samples, n_features)`` and return it as float64 numpy."""
    arr = as_float64(x, name)
    if arr.ndim != 2:
        raise GankitError(
            f"{name}: features must be 2-D (n_samples, n_features), got shape {tuple(arr.shape)}"
        )
    if arr.shape[1] < 1:
        raise GankitError(f"{name}: features have zero dimensions")
    if arr.shape[0] < min_samples:
        raise GankitError(f"{name}: needs at least {min_samples} samples, got {arr.shape[0]}")
    check_finite(arr, name)
    return arr


def check_feature_pair(a, b, names=("features_a", "features_b"), min_samples: int = 1):
    """Validate two feature arrays and that they live in the same feature space."""
    a = check_features(a, names[0], min_samples)
    b = check_features(b, names[1], min_samples)
    if a.shape[1] != b.shape[1]:
        raise GankitError(
            f"{names[0]} has {a.shape[1]} feature dimensions but {names[1]} has {b.shape[1]}: "
            "they come from different feature spaces"
        )
    return a, b


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Refuse a non-integer or an integer below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise GankitError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise GankitError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
