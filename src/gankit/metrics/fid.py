"""Fréchet Inception Distance from two feature arrays (Heusel et al. 2017).

The features are fitted with Gaussians (float64 mean, unbiased N - 1 covariance, the
pytorch-fid / torch-fidelity convention) and compared with `frechet_distance`. With fewer
samples than feature dimensions the covariance is singular and FID is dominated by its
estimation bias, so `fid` refuses, saying how many samples are needed and offering KID (unbiased
at any sample count).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import dsyrk

from gankit.errors import GankitError
from gankit.metrics.checks import check_feature_pair, check_features
from gankit.metrics.frechet import frechet_distance


def check_fid_sample_count(n: int, d: int, name: str) -> None:
    """Refuse ``n <= d``: a d-dimensional covariance needs d + 1 samples to be full rank."""
    if n <= d:
        raise GankitError(
            f"FID needs more samples than feature dimensions: {name} has {n} samples of "
            f"{d}-d features, at least {d + 1} are needed"
            + (" (10,000+ is usual for Inception features)" if d >= 2048 else "")
            + "; use KID, which is unbiased at small sample counts (gankit fid --kid)"
        )


def mean_and_scatter(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and centred scatter ``sum (x - mu)(x - mu)^T`` ``(d, d)`` of float64
    ``x (n, d)``. The scatter is one BLAS ``syrk`` (half the work of a general product)."""
    mu = x.mean(axis=0)
    xc = x - mu
    upper = dsyrk(1.0, xc.T, trans=0)  # xc.T is Fortran-ordered: no copy; upper triangle only
    return mu, np.triu(upper) + np.triu(upper, 1).T


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Float64 mean ``(d,)`` and unbiased covariance ``(d, d)`` of ``features (n, d)``."""
    x = check_features(features, "features", min_samples=2)
    mu, scatter = mean_and_scatter(x)
    return mu, scatter / (x.shape[0] - 1)


def fid(features_a, features_b, require_full_rank: bool = True) -> float:
    """FID between two feature sets ``(n_a, d)`` and ``(n_b, d)``, numpy or torch.

    Raises `GankitError` on mismatched dimensions, NaN features, or (unless
    ``require_full_rank=False``) on fewer samples than dimensions in either set.
    """
    a, b = check_feature_pair(features_a, features_b, min_samples=2)
    if require_full_rank:
        check_fid_sample_count(a.shape[0], a.shape[1], "features_a")
        check_fid_sample_count(b.shape[0], b.shape[1], "features_b")
    (mu1, s1), (mu2, s2) = mean_and_scatter(a), mean_and_scatter(b)
    return frechet_distance(mu1, s1 / (a.shape[0] - 1), mu2, s2 / (b.shape[0] - 1))
