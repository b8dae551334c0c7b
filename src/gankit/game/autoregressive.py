"""The exact log-likelihood of an autoregressive model of binary images (PixelCNN, van den Oord
et al. 2016, eq. 1): ``log p(x) = sum_i log p(x_i | x_<i)``, each conditional a Bernoulli whose
logit the network computed for pixel i from the pixels before it in raster order.

Pure functions, tensors in, tensors out. Likelihoods are in nats per image (the literature's
binarised-MNIST unit, e.g. PixelCNN's 81.30) and in bits per dimension (nats / (D ln 2)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def bernoulli_pixel_log_probs(logits: Tensor, bits: Tensor) -> Tensor:
    """``log p(x_i | x_<i)`` of every pixel, the shape of ``bits`` ({0, 1} floats): each pixel
    Bernoulli with probability ``sigmoid(logits)`` (computed stably from the logits)."""
    return -F.binary_cross_entropy_with_logits(logits, bits, reduction="none")


def image_log_likelihood(logits: Tensor, bits: Tensor) -> Tensor:
    """``(n,)`` log p(x) in nats: the sum of every pixel's conditional log-probability (the
    autoregressive factorisation), for ``logits`` and ``bits`` of shape ``(n, C, H, W)``."""
    return bernoulli_pixel_log_probs(logits, bits).flatten(1).sum(1)


def negative_log_likelihood_loss(logits: Tensor, bits: Tensor) -> Tensor:
    """The scalar minimised by maximum likelihood: the mean over the batch of -log p(x) in nats
    per image."""
    return -image_log_likelihood(logits, bits).mean()


def bits_per_dim(nll_nats: Tensor | float, dims: int) -> Tensor | float:
    """A negative log-likelihood in nats per image as bits per dimension: ``nll / (dims ln 2)``
    (``dims`` = C * H * W)."""
    return nll_nats / (dims * math.log(2.0))


def likelihood_stats(logits: Tensor, bits: Tensor) -> dict[str, Tensor]:
    """What a step logs of a batch: ``nll`` (mean nats per image) and ``bits_per_dim``."""
    nll = -image_log_likelihood(logits.detach(), bits).mean()
    return {"nll": nll, "bits_per_dim": bits_per_dim(nll, bits[0].numel())}


def draw_pixel(logits: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """One Bernoulli draw per entry of ``logits``: ``(bits, probabilities)``, each the shape of
    ``logits``; the uniforms come from ``generator``, on its own device."""
    p = torch.sigmoid(logits)
    where = generator.device if generator is not None else p.device
    u = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=where).to(p.device)
    return (u < p).to(p.dtype), p


@torch.no_grad()
def sample_raster(
    logits_of: Callable[[Tensor], Tensor],
    n: int,
    shape: tuple[int, int, int],
    generator: torch.Generator | None = None,
    reach: int | None = None,
    device: torch.device | str = "cpu",
) -> tuple[Tensor, Tensor]:
    """``n`` images drawn pixel by pixel in raster order (H * W calls of ``logits_of``, the
    paper's sequential sampling): ``(bits, means)``, each ``(n, C, H, W)``, ``bits`` the draws
    in {0, 1} and ``means`` each pixel's probability given the bits drawn before it.

    ``logits_of(x) -> logits`` of the same shape, causal in raster order. ``reach``: how many
    rows above and columns either side of its own an output reads at most (a net of
    convolutions: the sum of its kernels' half-sides); each pass then reads only the window
    ``rows i - reach .. i, columns j - reach .. j + reach`` (rows below i never matter to a
    causal net), which gives exactly the full image's logit. Channels (C > 1) are drawn
    independently of each other."""
    c, h, w = shape
    bits = torch.zeros((n, c, h, w), device=device)
    means = torch.zeros_like(bits)
    for i in range(h):
        top = 0 if reach is None else max(0, i - reach)
        for j in range(w):
            left = 0 if reach is None else max(0, j - reach)
            right = w if reach is None else min(w, j + reach + 1)
            window = bits[:, :, top : i + 1, left:right]
            logits = logits_of(window)[:, :, i - top, j - left].float()
            drawn, p = draw_pixel(logits, generator)
            bits[:, :, i, j] = drawn
            means[:, :, i, j] = p
    return bits, means


__all__ = [
    "bernoulli_pixel_log_probs",
    "bits_per_dim",
    "draw_pixel",
    "image_log_likelihood",
    "likelihood_stats",
    "negative_log_likelihood_loss",
    "sample_raster",
]
