"""Binary images for the models with Bernoulli pixels (RBM, PixelCNN, a VAE's bits per dim).

Images arrive in [-1, 1] (`gankit.data.batch.Batch`); a Bernoulli model reads {0, 1}. Two
conventions of the literature: a fixed threshold at 1/2, and stochastic binarisation (each pixel
drawn from Bernoulli(intensity), Salakhutdinov & Murray 2008), which is what the published
binarised-MNIST likelihoods use. A held-out set is binarised once, with a fixed seed, so every
model is scored on the same bits.
"""

from __future__ import annotations

import torch

#: the binarisations a config may name
BINARIZATIONS = ("threshold", "stochastic")

#: seed of the one stochastic binarisation of a held-out set (the same bits for every model)
HELDOUT_BINARIZATION_SEED = 20_080_601


def to_unit_interval(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] mapped to intensities in [0, 1] (same shape)."""
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


def binarize(
    x: torch.Tensor, mode: str = "stochastic", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Images ``x`` in [-1, 1] as {0, 1} floats of the same shape: each pixel on with probability
    its intensity (``stochastic``, drawn from ``generator``) or where its intensity is > 1/2
    (``threshold``)."""
    if mode not in BINARIZATIONS:
        raise ValueError(f"binarization must be one of {BINARIZATIONS}, got {mode!r}")
    p = to_unit_interval(x)
    if mode == "threshold":
        return (p > 0.5).to(x.dtype)
    u = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=p.device)
    return (u < p).to(x.dtype)


def binarize_heldout(x: torch.Tensor, mode: str = "stochastic") -> torch.Tensor:
    """A held-out set's one binarisation: the same bits on every call and for every model."""
    gen = torch.Generator(device=x.device).manual_seed(HELDOUT_BINARIZATION_SEED)
    return binarize(x, mode, gen)


def from_binary(bits: torch.Tensor) -> torch.Tensor:
    """{0, 1} (or Bernoulli means in [0, 1]) back to the images' range [-1, 1]."""
    return bits * 2.0 - 1.0
