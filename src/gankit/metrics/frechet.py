"""The Fréchet distance between two Gaussians, from their statistics.

    d^2 = ||mu1 - mu2||^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^{1/2})

(Dowson & Landau 1982; Heusel et al. 2017 for FID). pytorch-fid and torch-fidelity compute the
last term with ``scipy.linalg.sqrtm(C1 @ C2)``: a complex Schur decomposition of a non-symmetric
matrix, slow, and unstable when a covariance is singular (they then add ``eps * I`` and discard an
imaginary part). We avoid it. ``C1 C2`` is similar to the symmetric positive semi-definite matrix
``S^T C2 S`` for any factor ``C1 = S S^T`` (``C1 C2 = S (S^T C2 S) S^{-1}`` when S is invertible,
and by continuity the non-zero eigenvalues agree in general), so

    tr((C1 C2)^{1/2}) = sum_i sqrt(lambda_i(S^T C2 S)).

S is the Cholesky factor of C1 when C1 is positive definite (fast), and otherwise the symmetric
square root from an eigendecomposition with negative round-off eigenvalues clipped at zero, which
is exact for singular covariances. Everything runs in float64.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from gankit.errors import GankitError
from gankit.metrics.checks import as_float64, check_finite


def _check_stats(mu, cov, name: str):
    mu = as_float64(mu, f"mu{name}")
    cov = as_float64(cov, f"cov{name}")
    if mu.ndim != 1:
        raise GankitError(f"mu{name}: must be 1-D (n_features,), got shape {tuple(mu.shape)}")
    d = mu.shape[0]
    if cov.shape != (d, d):
        raise GankitError(
            f"cov{name}: must be ({d}, {d}) to match mu{name}, got shape {tuple(cov.shape)}"
        )
    check_finite(mu, f"mu{name}")
    check_finite(cov, f"cov{name}")
    return mu, cov


def _factor(cov: np.ndarray) -> np.ndarray:
    """A matrix S with cov = S S^T: Cholesky if possible, else the clipped symmetric root."""
    try:
        return scipy.linalg.cholesky(cov, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        w, v = scipy.linalg.eigh(cov, check_finite=False, driver="evd")
        return v * np.sqrt(np.clip(w, 0.0, None))


def trace_sqrt_product(cov1, cov2) -> float:
    """``tr((cov1 @ cov2)^{1/2})`` for symmetric PSD matrices, in float64, without ``sqrtm``."""
    cov1 = np.asarray(cov1, dtype=np.float64)
    cov2 = np.asarray(cov2, dtype=np.float64)
    cov1 = 0.5 * (cov1 + cov1.T)
    cov2 = 0.5 * (cov2 + cov2.T)
    s = _factor(cov1)
    m = s.T @ (cov2 @ s)
    m = 0.5 * (m + m.T)
    eig = scipy.linalg.eigh(m, eigvals_only=True, check_finite=False, driver="evd")
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Squared Fréchet distance between N(mu1, cov1) and N(mu2, cov2).

    Parameters
    ----------
    mu1, mu2 : array or tensor, shape (d,)
    cov1, cov2 : array or tensor, shape (d, d), symmetric positive semi-definite
        (FID convention: unbiased covariances, divided by N - 1). Singular matrices are fine.

    Returns
    -------
    float
        ``||mu1 - mu2||^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^{1/2})``, clipped at 0
        (round-off can make the exact value 0 come out as -1e-12).

    Raises
    ------
    GankitError
        Shapes that disagree, or NaN / infinite entries.
    """
    mu1, cov1 = _check_stats(mu1, cov1, "1")
    mu2, cov2 = _check_stats(mu2, cov2, "2")
    if mu1.shape != mu2.shape:
        raise GankitError(
            f"mu1 has {mu1.shape[0]} dimensions but mu2 has {mu2.shape[0]}: "
            "statistics from different feature spaces"
        )
    diff = mu1 - mu2
    value = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt_product(cov1, cov2)
    return float(max(value, 0.0))
