"""Validation shared by the metrics: feature arrays, logits and images.

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


def check_images(x, name: str = "images") -> torch.Tensor:
    """Validate a batch of images ``(N, C, H, W)`` and return it as a torch tensor.

    The range is explicit: ``uint8`` in [0, 255], or floating point in [0, 1]. Anything else
    (float images in [-1, 1] or [0, 255], int64 arrays, ...) is refused with the range found;
    nothing is ever rescaled silently. ``C`` must be 1 or 3.
    """
    t = torch.from_numpy(np.asarray(x)) if not isinstance(x, torch.Tensor) else x.detach()
    if t.ndim != 4:
        raise GankitError(f"{name}: images must be 4-D (N, C, H, W), got shape {tuple(t.shape)}")
    n, c, h, w = t.shape
    if c not in (1, 3):
        hint = " (channels-last? transpose to N, C, H, W)" if w in (1, 3) else ""
        raise GankitError(
            f"{name}: images need 1 or 3 channels in axis 1, got shape {tuple(t.shape)}{hint}"
        )
    if n == 0 or h == 0 or w == 0:
        raise GankitError(f"{name}: empty image batch of shape {tuple(t.shape)}")
    if t.dtype == torch.uint8:
        return t
    if not t.is_floating_point():
        lo, hi = int(t.min()), int(t.max())
        raise GankitError(
            f"{name}: images must be uint8 in [0, 255] or float in [0, 1]; got dtype "
            f"{str(t.dtype).replace('torch.', '')} with range [{lo}, {hi}]"
        )
    if not torch.isfinite(t).all():
        raise GankitError(f"{name}: images contain NaN or infinite values")
    lo, hi = float(t.min()), float(t.max())
    if lo < 0.0 or hi > 1.0:
        raise GankitError(
            f"{name}: float images must lie in [0, 1], found range [{lo:.4g}, {hi:.4g}] "
            "(gankit never rescales silently: map them to [0, 1] or to uint8 yourself)"
        )
    return t


def images_to_float01(images: torch.Tensor) -> torch.Tensor:
    """Checked images as float32 in [0, 1] (uint8 is divided by 255)."""
    if images.dtype == torch.uint8:
        return images.to(torch.float32) / 255.0
    return images.to(torch.float32)


def images_to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Checked images as uint8 (floats in [0, 1] are rounded from ``x * 255``)."""
    if images.dtype == torch.uint8:
        return images
    return torch.round(images.to(torch.float32) * 255.0).clamp(0, 255).to(torch.uint8)
