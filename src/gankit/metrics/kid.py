"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs").

Unbiased estimate of the squared MMD with the polynomial kernel
``k(x, y) = (gamma * x.y + coef0) ** degree``, averaged over random subsets. Defaults, the
estimator and the spread follow torch-fidelity (``metric_kid.py``): 100 subsets of 1000 samples
drawn without replacement, degree 3, gamma = 1 / d, coef0 = 1;
``MMD^2_u = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1))
- 2 sum_{i,j} k(x_i, y_j) / m^2``; std is the population standard deviation over subsets.
Unlike torch-fidelity (a NumPy RandomState) the subsets come from a `torch.Generator`, so results
are reproducible for a given seed but not bit-identical with torch-fidelity's subsets.
"""

from __future__ import annotations

import torch

from gankit.errors import GankitError
from gankit.metrics.checks import check_feature_pair, check_positive_int

KID_DEFAULTS = {"subsets": 100, "subset_size": 1000, "degree": 3, "gamma": None, "coef0": 1.0}


def make_generator(generator, default_seed: int = 0) -> torch.Generator:
    """A CPU `torch.Generator` from a generator, an int seed, or None (seed ``default_seed``)."""
    if isinstance(generator, torch.Generator):
        return generator
    if generator is None:
        generator = default_seed
    if isinstance(generator, bool) or not isinstance(generator, int):
        raise GankitError(f"generator must be a torch.Generator or an int seed, got {generator!r}")
    return torch.Generator().manual_seed(generator)


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float, coef0: float):
    """``(gamma * x @ y.T + coef0) ** degree`` for ``x (n, d)``, ``y (m, d)``."""
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: torch.Tensor, k_xy: torch.Tensor, k_yy: torch.Tensor) -> float:
    """The unbiased MMD^2 estimate from the three ``(m, m)`` kernel matrices."""
    m = k_xx.shape[0]
    sum_xx = k_xx.sum() - k_xx.diagonal().sum()
    sum_yy = k_yy.sum() - k_yy.diagonal().sum()
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kid(
    features_a,
    features_b,
    subsets: int = KID_DEFAULTS["subsets"],
    subset_size: int = KID_DEFAULTS["subset_size"],
    degree: int = KID_DEFAULTS["degree"],
    gamma: float | None = KID_DEFAULTS["gamma"],
    coef0: float = KID_DEFAULTS["coef0"],
    generator: torch.Generator | int | None = None,
) -> tuple[float, float]:
    """KID between feature sets ``(n_a, d)`` and ``(n_b, d)``: ``(mean, std)`` over subsets.

    ``generator`` (a `torch.Generator` or an int seed; None means seed 0) draws the subsets; the
    global RNG is never touched. Raises `GankitError` when ``subset_size`` exceeds either
    sample count (no silent shrinking), on mismatched dimensions or NaN features.
    """
    a, b = check_feature_pair(features_a, features_b)
    subsets = check_positive_int(subsets, "subsets")
    subset_size = check_positive_int(subset_size, "subset_size", minimum=2)
    degree = check_positive_int(degree, "degree")
    for name, n in (("features_a", a.shape[0]), ("features_b", b.shape[0])):
        if subset_size > n:
            raise GankitError(
                f"KID subset_size {subset_size} is larger than {name}'s {n} samples; "
                f"pass subset_size <= {min(a.shape[0], b.shape[0])} or more samples"
            )
    if gamma is None:
        gamma = 1.0 / a.shape[1]
    gen = make_generator(generator)
    x_all, y_all = torch.from_numpy(a), torch.from_numpy(b)
    values = torch.empty(subsets, dtype=torch.float64)
    for i in range(subsets):
        x = x_all[torch.randperm(x_all.shape[0], generator=gen)[:subset_size]]
        y = y_all[torch.randperm(y_all.shape[0], generator=gen)[:subset_size]]
        values[i] = mmd2_unbiased(
            polynomial_kernel(x, x, degree, gamma, coef0),
            polynomial_kernel(x, y, degree, gamma, coef0),
            polynomial_kernel(y, y, degree, gamma, coef0),
        )
    return float(values.mean()), float(values.std(correction=0))
