"""Where tensors live: ``train.device`` (``auto``, ``cpu``, ``cuda``) to a `torch.device`."""

from __future__ import annotations

import torch

from gankit.errors import GankitError


def pick_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a CUDA device is refused."""
    if name == "cuda" and not torch.cuda.is_available():
        raise GankitError("train.device: 'cuda' requested but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
