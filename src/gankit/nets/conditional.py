"""What a class-conditional GAN adds to its nets: the class prior G samples from, G's class
input, and D's projection head.

- G reads the class as a one-hot vector beside its noise (the conditional GAN of Mirza &
  Osindero 2014, "Conditional generative adversarial nets"): through G's first, linear layer
  this is a learned per-class offset of its first feature map.
- D scores ``s(x, y) = psi(phi(x)) + <e_y, phi(x)>`` (the projection discriminator of Miyato &
  Koyama 2018, "cGANs with projection discriminator", eq. 3): ``phi`` its features, ``psi`` its
  unconditional score, ``e_y`` a learned embedding of the class, spectrally normalised where D is.
- G models ``p(x, y) = p(y) p(x | y)`` with ``p(y)`` the training split's class shares
  (`ClassPrior`, saved with G). Training draws the classes i.i.d. from it
  (:func:`draw_classes`); sampling for evaluation and output asks for them in exactly those
  shares (:func:`stratified_classes`, stratified sampling: the same distribution without the
  multinomial noise of the class counts, which the real floor of a fixed set does not pay),
  spread evenly over the sequence.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _torch_spectral_norm

#: the projection embedding's initial scale (DCGAN's N(0, 0.02), as every other layer of D)
EMBEDDING_INIT_STD = 0.02


def check_classes(y: Tensor | None, classes: int, n: int, who: str) -> Tensor:
    """``y`` as the ``(n,)`` int64 classes in ``[0, classes)`` a conditional net reads; raises
    `ValueError` naming ``who`` when they are missing, mis-shaped or out of range."""
    if y is None:
        raise ValueError(f"{who} is class-conditional ({classes} classes): pass its classes y")
    if y.shape != (n,) or y.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{who} expects classes y of shape ({n},) int64, got {tuple(y.shape)}")
    if n and (int(y.min()) < 0 or int(y.max()) >= classes):
        raise ValueError(f"{who}: classes must lie in [0, {classes - 1}]")
    return y.long()


def with_class_input(z: Tensor, y: Tensor, classes: int) -> Tensor:
    """``(n, d) -> (n, d + classes)``: the noise with the class one-hot appended."""
    return torch.cat([z, nn.functional.one_hot(y, classes).to(z.dtype)], 1)


class ClassProjection(nn.Module):
    """D's class term ``<e_y, f>``: ``f (n, F)``, ``y (n,)`` -> ``(n, 1)`` (Miyato & Koyama
    2018, eq. 3)."""

    def __init__(self, classes: int, feature_dim: int, spectral_norm: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(classes, feature_dim)
        nn.init.normal_(self.embedding.weight, 0.0, EMBEDDING_INIT_STD)
        if spectral_norm:
            _torch_spectral_norm(self.embedding)

    def forward(self, f: Tensor, y: Tensor) -> Tensor:
        return (self.embedding(y) * f).sum(1, keepdim=True)


class ClassPrior(nn.Module):
    """``p(y)``: the ``(classes,)`` class shares a conditional G samples from, kept as a buffer
    so that checkpoints carry it (and G's EMA copies it unchanged)."""

    def __init__(self, shares: Tensor):
        super().__init__()
        shares = torch.as_tensor(shares, dtype=torch.float64)
        if shares.dim() != 1 or shares.numel() < 1 or bool((shares < 0).any()):
            raise ValueError("class shares must be a non-empty 1-D tensor of values >= 0")
        if float(shares.sum()) <= 0:
            raise ValueError("class shares must not all be 0")
        self.register_buffer("shares", (shares / shares.sum()).float())

    @classmethod
    def from_labels(cls, labels, classes: int) -> ClassPrior:
        """The shares of ``labels`` (``(N,)`` ints in ``[0, classes)``)."""
        counts = torch.bincount(torch.as_tensor(labels, dtype=torch.int64), minlength=classes)
        return cls(counts.double())


def class_counts(shares: Tensor, n: int) -> Tensor:
    """``(classes,)`` int64 counts summing to ``n``, closest to ``n * shares``: each class gets
    the floor of its quota, the remaining ones go to the largest remainders (ties to the lower
    class: Hamilton's method, deterministic)."""
    quota = shares.double().cpu() * n
    counts = quota.floor().long()
    left = n - int(counts.sum())
    if left > 0:
        order = sorted(range(len(quota)), key=lambda k: (-(quota[k] - counts[k]).item(), k))
        counts[order[:left]] += 1
    return counts


def stratified_classes(shares: Tensor, n: int) -> Tensor:
    """``(n,)`` int64 classes in exactly :func:`class_counts`'s numbers, each class spread
    evenly over the sequence (its ``j``-th of ``k`` at position ``(j + 1/2) / k``, ties to the
    lower class), so that every prefix and every contiguous chunk is near-stratified too: the
    metrics that read the first samples (D's read-outs) or split them in order (the inception
    score) see the classes mixed, not one class after another. Draws nothing."""
    counts = class_counts(shares, n)
    classes = torch.repeat_interleave(torch.arange(len(counts)), counts)  # in class order
    rank = torch.arange(n) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    # (2j + 1) / 2k: equal fractions round to equal doubles, so a stable sort breaks their
    # ties by class
    position = (2 * rank + 1).double() / (2 * counts[classes]).double()
    return classes[torch.sort(position, stable=True).indices]


def draw_classes(
    shares: Tensor, n: int, generator: torch.Generator | None = None, device=None
) -> Tensor:
    """``(n,)`` int64 classes drawn i.i.d. from ``shares`` with ``generator`` (where it lives),
    on ``device``."""
    device = device if device is not None else shares.device
    where = generator.device if generator is not None else device
    probs = shares.to(where, torch.float32)
    return torch.multinomial(probs, n, replacement=True, generator=generator).to(device)
