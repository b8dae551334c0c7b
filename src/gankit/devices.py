"""Where tensors live: ``train.device`` (``auto``, ``cpu``, ``cuda``) to a `torch.device`.

``auto`` picks CUDA wherever ``torch.cuda.is_available()``, else the CPU. On CUDA the nets,
the latents and the game's random draws live on the GPU; an image dataset that fits
(`fits_on`) is moved there once and its minibatches are indexed there; toy densities draw on
the CPU and their minibatches are copied over. Every random stream lives on the device of what
it draws, so a resumed run continues the same streams on any device; CUDA's numbers are
bit-identical between runs only where its kernels are deterministic.
"""

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


#: a dataset is kept on an accelerator when it takes at most this share of its free memory
DATASET_MEMORY_SHARE = 0.25


def fits_on(device: torch.device, nbytes: int) -> bool:
    """Whether ``nbytes`` of data can live on ``device`` beside training: always on the CPU
    (where it already is); on CUDA, at most `DATASET_MEMORY_SHARE` of its free memory."""
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return nbytes <= DATASET_MEMORY_SHARE * free
    return False
