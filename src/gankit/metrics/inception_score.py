"""Inception Score (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))`` over splits.

Follows torch-fidelity's ``isc_features_to_metric``: float64 softmax of the logits, the samples
cut into ``splits`` contiguous chunks (chunk i is ``[i N / splits, (i + 1) N / splits)``), the
marginal ``p(y)`` estimated per chunk, mean and population std of the per-chunk scores.
torch-fidelity shuffles first with a fixed seed; here shuffling happens only when a
``generator`` is passed. torch-fidelity feeds the Inception logits *without* the fc bias
("logits_unbiased"); gankit's Inception extractor returns those by default too.
"""

from __future__ import annotations

import torch

from gankit.errors import GankitError
from gankit.metrics.checks import as_float64, check_finite, check_positive_int
from gankit.metrics.kid import make_generator


def inception_score(logits, splits: int = 10, generator=None) -> tuple[float, float]:
    """IS of class logits ``(n_samples, n_classes)``: ``(mean, std)`` over ``splits`` chunks.

    Raises `GankitError` when there are no class logits (None, 1-D, a single class), NaNs, or
    fewer samples than splits.
    """
    if logits is None:
        raise GankitError(
            "Inception Score needs class logits, and this feature extractor gives none"
        )
    x = as_float64(logits, "logits")
    if x.ndim != 2 or x.shape[1] < 2:
        raise GankitError(
            f"logits: the Inception Score needs class logits (n_samples, n_classes >= 2), "
            f"got shape {tuple(x.shape)}"
        )
    check_finite(x, "logits")
    splits = check_positive_int(splits, "splits")
    n = x.shape[0]
    if n < splits:
        raise GankitError(f"Inception Score: {n} samples cannot make {splits} splits")
    t = torch.from_numpy(x)
    if generator is not None:
        t = t[torch.randperm(n, generator=make_generator(generator))]
    log_p = torch.log_softmax(t, dim=1)
    p = log_p.exp()
    scores = []
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        p_c, log_p_c = p[lo:hi], log_p[lo:hi]
        log_q = torch.log(p_c.mean(dim=0, keepdim=True))
        terms = torch.where(p_c > 0, p_c * (log_p_c - log_q), torch.zeros_like(p_c))
        kl = terms.sum(dim=1).mean()
        scores.append(float(torch.exp(kl)))
    s = torch.tensor(scores, dtype=torch.float64)
    return float(s.mean()), float(s.std(correction=0))
