"""Precision, recall, density and coverage (Naeem et al. 2020, "Reliable Fidelity and
Diversity Metrics for Generative Models"; the ``prdc`` package's definitions).

With ``r_k(x)`` the distance from a real point to its k-th nearest *other* real point and
``B(x, r)`` the open ball (strict ``<`` as in ``prdc``):

- precision: share of fake points inside some real ball ``B(x_i, r_k(x_i))``;
- recall: share of real points inside some fake ball ``B(y_j, r_k(y_j))`` (fake radii from fakes);
- density: ``(1 / k M) sum_j sum_i 1[y_j in B(x_i, r_k(x_i))]`` (can exceed 1);
- coverage: share of real points whose ball contains at least one fake point.

On identical sets precision, recall and coverage are exactly 1; density is 1 up to ties (a
copy of the k-th neighbour lies exactly on the ball's edge), which float64 round-off decides.
"""

from __future__ import annotations

import torch

from gankit.errors import GankitError
from gankit.metrics.checks import check_feature_pair, check_positive_int
from gankit.metrics.nearest import iter_distance_chunks, knn


def precision_recall_density_coverage(real, fake, k: int = 5) -> dict:
    """PRDC of feature sets ``real (N, d)`` and ``fake (M, d)`` with ``k`` neighbours.

    Returns ``{"precision", "recall", "density", "coverage"}`` as floats. Raises `GankitError`
    when either set has at most ``k`` samples (no k-th neighbour), on mismatched dimensions or
    NaN features.
    """
    k = check_positive_int(k, "k")
    r_np, f_np = check_feature_pair(real, fake, ("real", "fake"))
    for name, arr in (("real", r_np), ("fake", f_np)):
        if arr.shape[0] <= k:
            raise GankitError(
                f"PRDC with k = {k} needs more than {k} {name} samples, got {arr.shape[0]}"
            )
    r, f = torch.from_numpy(r_np), torch.from_numpy(f_np)
    radii_real = knn(r, r, k, exclude_self=True)[0][:, -1]
    radii_fake = knn(f, f, k, exclude_self=True)[0][:, -1]
    n, m = r.shape[0], f.shape[0]
    precision_hits = 0
    density_hits = 0.0
    recall_hit = torch.zeros(n, dtype=torch.bool)
    nearest_fake = torch.full((n,), float("inf"), dtype=torch.float64)
    for start, d in iter_distance_chunks(f, r):  # d: (chunk of fakes, n reals)
        inside_real = d < radii_real[None, :]
        precision_hits += int(inside_real.any(dim=1).sum())
        density_hits += float(inside_real.sum())
        rf = radii_fake[start : start + d.shape[0]]
        recall_hit |= (d < rf[:, None]).any(dim=0)
        nearest_fake = torch.minimum(nearest_fake, d.min(dim=0).values)
    return {
        "precision": precision_hits / m,
        "recall": float(recall_hit.double().mean()),
        "density": density_hits / (k * m),
        "coverage": float((nearest_fake < radii_real).double().mean()),
    }
