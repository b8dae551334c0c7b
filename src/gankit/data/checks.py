"""The image convention at gankit's edges, checked: ``(N, C, H, W)``, ``uint8`` in [0, 255] or
float in [0, 1], ``C`` in {1, 3}. Every array gankit reads or writes at its edges (loaders, the
metrics, `gankit sample`) follows it; inside the nets pixels live in [-1, 1]. Nothing is ever
rescaled silently: anything else is refused with one line naming the array and the range found.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.errors import GankitError


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


def from_net(samples: torch.Tensor) -> torch.Tensor:
    """Images as the nets produce them, in [-1, 1], as float32 in [0, 1] (clamped)."""
    return ((samples.float() + 1.0) / 2.0).clamp_(0.0, 1.0)


def to_net(images) -> torch.Tensor:
    """Images at the edges (uint8, or float in [0, 1]) as float32 in [-1, 1], as nets read them."""
    x = (
        torch.from_numpy(np.ascontiguousarray(images))
        if not isinstance(images, torch.Tensor)
        else images
    )
    return x.float() / 127.5 - 1.0 if x.dtype == torch.uint8 else x.float() * 2.0 - 1.0


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
