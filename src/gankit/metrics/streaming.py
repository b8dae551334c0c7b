"""Streaming metrics: ``update`` with batches, ``compute`` at the end (torchmetrics style).

State is float64 sufficient statistics, never the features themselves, so FID over 50,000
samples holds two ``(d,)`` means and two ``(d, d)`` scatter matrices, whatever the sample count.
The statistics are merged with Chan et al.'s parallel update (count, mean, centred scatter),
which is exact and avoids the cancellation of the raw ``sum(x x^T) - n mu mu^T`` form; two
``GaussianStats`` merge with ``merge`` (e.g. across processes), so the result does not depend on
how the samples were batched.
"""

from __future__ import annotations

import numpy as np

from gankit.errors import GankitError
from gankit.metrics.checks import check_features
from gankit.metrics.fid import mean_and_scatter


class GaussianStats:
    """Running count, mean and centred scatter of feature vectors, in float64.

    ``cov`` is the unbiased covariance (divides by N - 1), the pytorch-fid / torch-fidelity
    convention for FID.
    """

    def __init__(self, n_features: int | None = None):
        self.n = 0
        self.n_features = n_features
        self._mean: np.ndarray | None = None
        self._scatter: np.ndarray | None = None

    def update(self, features) -> GaussianStats:
        """Add a batch ``(batch, n_features)`` (numpy or torch)."""
        x = check_features(features, "features")
        if self.n_features is None:
            self.n_features = x.shape[1]
        if x.shape[1] != self.n_features:
            raise GankitError(
                f"features: batch has {x.shape[1]} dimensions, earlier batches had "
                f"{self.n_features}"
            )
        mean_b, scatter_b = mean_and_scatter(x)
        self._merge(x.shape[0], mean_b, scatter_b)
        return self

    def _merge(self, m: int, mean_b: np.ndarray, scatter_b: np.ndarray) -> None:
        if self.n == 0:
            self.n, self._mean, self._scatter = m, mean_b.copy(), scatter_b.copy()
            return
        n = self.n
        total = n + m
        delta = mean_b - self._mean
        self._mean = self._mean + delta * (m / total)
        self._scatter = self._scatter + scatter_b + np.outer(delta, delta) * (n * m / total)
        self.n = total

    def merge(self, other: GaussianStats) -> GaussianStats:
        """Fold another accumulator into this one (e.g. from another process)."""
        if other.n == 0:
            return self
        if self.n_features is not None and other.n_features != self.n_features:
            raise GankitError(
                f"cannot merge statistics of {other.n_features}-d features into "
                f"{self.n_features}-d ones"
            )
        self.n_features = other.n_features
        self._merge(other.n, other._mean, other._scatter)
        return self

    @property
    def mean(self) -> np.ndarray:
        if self.n == 0:
            raise GankitError("no features were added to these statistics")
        return self._mean.copy()

    @property
    def cov(self) -> np.ndarray:
        """Unbiased covariance ``scatter / (n - 1)``."""
        if self.n < 2:
            raise GankitError(f"a covariance needs at least 2 samples, got {self.n}")
        return self._scatter / (self.n - 1)

    def state_dict(self) -> dict:
        return {"n": np.array(self.n), "mean": self.mean, "scatter": self._scatter.copy()}

    @classmethod
    def from_state_dict(cls, state: dict) -> GaussianStats:
        stats = cls(int(np.asarray(state["mean"]).shape[0]))
        stats.n = int(state["n"])
        stats._mean = np.asarray(state["mean"], dtype=np.float64).copy()
        stats._scatter = np.asarray(state["scatter"], dtype=np.float64).copy()
        return stats

    @classmethod
    def from_features(cls, features) -> GaussianStats:
        return cls().update(features)
