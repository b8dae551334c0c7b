"""Extra terms of the players' losses, as pure functions of D's features and logits.

* Feature matching (Salimans et al. 2016, "Improved techniques for training GANs", sec. 3.1):
  G matches the mean of an intermediate layer of D on real data instead of (or besides)
  maximising D's output.
* The which-generator term of mixtures of generators: MAD-GAN (Ghosh et al. 2018, "Multi-agent
  diverse generative adversarial networks") has D tell the generators apart; MGAN (Hoang et al.
  2018, "MGAN: training generative adversarial nets with multiple generators") writes it as a
  separate classifier head with a cross-entropy that composes with any adversarial loss. Both
  players minimise it: D learns to tell the generators apart, the generators to stay apart.
* The mean entropy of a classifier's posteriors (`mean_entropy`), shared by the terms that make
  a posterior confident: InfoGAN's clustering term on real data and the semi-supervised GAN's
  entropy minimisation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def mean_entropy(log_probs: Tensor) -> Tensor:
    """Mean over rows of ``-sum_k p_k log p_k`` (nats), from log-probabilities ``(n, K)`` (a
    ``log_softmax``); a scalar."""
    return -(log_probs.exp() * log_probs).sum(dim=1).mean()


def feature_matching(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """``|| mean_n f(x) - mean_n f(G(z)) ||_2^2`` for features ``(n, F)`` and ``(n', F)``
    (the batches may differ in size); a scalar."""
    diff = real_features.flatten(1).mean(0) - fake_features.flatten(1).mean(0)
    return diff.pow(2).sum()


def generator_labels(n: int, n_generators: int, device: torch.device | str = "cpu") -> Tensor:
    """``(n,)`` int64 labels ``i % n_generators``: which generator made sample ``i`` of a batch
    of a `MixtureGenerator`."""
    return torch.arange(n, device=device) % n_generators


def identity_loss(logits: Tensor, n_generators: int) -> Tensor:
    """Mean cross-entropy of D's which-generator logits ``(n, n_generators)`` against the
    labels ``i % n_generators``; a scalar (``log n_generators`` for uniform logits)."""
    if logits.dim() != 2 or logits.shape[1] != n_generators:
        raise ValueError(f"identity logits must be (n, {n_generators}), got {tuple(logits.shape)}")
    return F.cross_entropy(logits, generator_labels(logits.shape[0], n_generators, logits.device))
