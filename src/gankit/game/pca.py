"""Probabilistic PCA in closed form (Tipping & Bishop 1999, "Probabilistic principal component
analysis", section 3.2), and the moments it is fitted from, as pure functions: tensors in,
tensors out, float64 inside.

The model: ``x = mu + W z + sigma * eps`` with ``z ~ N(0, I_q)`` and ``eps ~ N(0, I_D)``, so that
``x ~ N(mu, C)`` with ``C = W W^T + sigma^2 I``. Its maximum-likelihood fit to points with mean
``m`` and covariance ``S`` (divided by N) is, with ``S``'s eigenvalues ``l_1 >= ... >= l_D`` and
unit eigenvectors ``U`` (eq. 7 and 8 of the paper, taking the rotation R = I):

    mu = m,    sigma^2 = mean(l_{q+1}, ..., l_D),    W = U_q (diag(l_1..l_q) - sigma^2 I)^(1/2).

The same moments are the Gaussian fitted to an autoencoder's codes (the ``autoencoder``
family), so they live here once: :func:`moments`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

LOG_2PI = math.log(2.0 * math.pi)
#: rows per chunk of :func:`moments` (60,000 MNIST images in float64 are 376 MB at once)
CHUNK = 8192


def moments(x: Tensor, chunk: int = CHUNK) -> tuple[Tensor, Tensor]:
    """``(mean (D,), covariance (D, D))`` of points ``x (N, D)`` in float64, the covariance
    divided by ``N`` (the maximum-likelihood estimate Tipping & Bishop fit), accumulated in
    chunks of ``chunk`` rows around the mean (two passes: no cancellation of large means)."""
    if x.dim() != 2 or x.shape[0] < 1:
        raise ValueError(f"moments reads points (N >= 1, D), got {tuple(x.shape)}")
    n = x.shape[0]
    mean = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
    for start in range(0, n, chunk):
        mean += x[start : start + chunk].double().sum(0)
    mean /= n
    cov = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64, device=x.device)
    for start in range(0, n, chunk):
        centred = x[start : start + chunk].double() - mean
        cov += centred.T @ centred
    return mean, cov / n


def ppca_fit(covariance: Tensor, components: int) -> tuple[Tensor, Tensor]:
    """``(W (D, q), sigma^2 ())`` of the maximum-likelihood probabilistic PCA of data with
    ``covariance`` ``(D, D)`` and ``q = components`` latent dimensions (Tipping & Bishop 1999,
    eq. 7-8, R = I): the columns of ``W`` are the top eigenvectors scaled by
    ``sqrt(l_i - sigma^2)``, ``sigma^2`` the mean of the ``D - q`` discarded eigenvalues (each
    column's sign fixed so that its largest entry is positive: a deterministic fit). Needs
    ``1 <= q < D``; raises `ValueError` otherwise or when ``sigma^2`` is not positive (the
    discarded directions hold no variance: the density would be singular)."""
    d = covariance.shape[0]
    if covariance.shape != (d, d):
        raise ValueError(f"a covariance is (D, D), got {tuple(covariance.shape)}")
    if not 1 <= components < d:
        raise ValueError(f"probabilistic PCA needs 1 <= components < {d} (the data's dimension)")
    cov = covariance.double()
    values, vectors = torch.linalg.eigh(0.5 * (cov + cov.T))  # ascending
    values, vectors = values.flip(0), vectors.flip(1)
    sigma2 = values[components:].clamp_min(0.0).mean()
    if not sigma2 > 0:
        raise ValueError(f"the {d - components} discarded directions hold no variance: sigma^2 = 0")
    top = vectors[:, :components]
    signs = torch.sign(top.gather(0, top.abs().argmax(0, keepdim=True)))
    scale = (values[:components] - sigma2).clamp_min(0.0).sqrt()
    return top * signs * scale, sigma2


def ppca_covariance(weight: Tensor, sigma2: Tensor | float) -> Tensor:
    """``C = W W^T + sigma^2 I`` ``(D, D)``: the covariance of probabilistic PCA's marginal."""
    eye = torch.eye(weight.shape[0], dtype=weight.dtype, device=weight.device)
    return weight @ weight.T + sigma2 * eye


def gaussian_mean_log_likelihood(covariance_model: Tensor, covariance_data: Tensor) -> Tensor:
    """The mean log-density ``(1/N) sum_n log N(x_n; m, C)`` of points with mean ``m`` and
    (divided-by-N) covariance ``S`` = ``covariance_data`` under a Gaussian centred at that very
    mean: ``-(D log 2 pi + log|C| + tr(C^-1 S)) / 2`` (Tipping & Bishop 1999, eq. 4), in nats per
    point, from ``C`` = ``covariance_model`` alone: no pass over the points."""
    d = covariance_model.shape[0]
    chol = torch.linalg.cholesky(covariance_model.double())
    log_det = 2.0 * chol.diagonal().log().sum()
    trace = torch.cholesky_solve(covariance_data.double(), chol).diagonal().sum()
    return -0.5 * (d * LOG_2PI + log_det + trace)


__all__ = ["gaussian_mean_log_likelihood", "moments", "ppca_covariance", "ppca_fit"]
