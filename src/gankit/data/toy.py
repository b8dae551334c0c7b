"""Toy distributions whose density is known exactly, so that a GAN's samples can be scored exactly.

Every distribution follows one small interface, `ToyDistribution`:

* ``sample(n, generator) -> (n, dim)`` float32 tensor, drawn only from the given ``torch.Generator``;
* ``log_prob(x) -> (n,)`` float64 log density of ``x`` (``(n, dim)``);
* ``cdf(x)`` for 1-D distributions (``(n,)`` or ``(n, 1)`` in, ``(n,)`` float64 out);
* ``modes`` (``(m, dim)`` centres) and ``mode_std`` where the distribution is a mixture of modes.

Look distributions up by name with :func:`make_toy`; register new ones with :func:`register_toy`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class ToyDistribution:
    """A distribution in ``dim`` dimensions with an exact density (see the module docstring)."""

    name: str = "toy"
    dim: int = 1

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError(f"toy '{self.name}' has no CDF (only 1-D distributions do)")

    @property
    def modes(self) -> torch.Tensor | None:
        """``(m, dim)`` mode centres, or None for a distribution without separate modes."""
        return None

    @property
    def mode_std(self) -> float | None:
        """The standard deviation of each mode (the PacGAN protocol's 3-std quality radius)."""
        return None

    def mean_std(self) -> tuple[float, float]:
        """Exact mean and standard deviation (1-D only): used to set plot and histogram ranges."""
        raise ValueError(f"toy '{self.name}' has no 1-D mean/std")

    def support(self) -> tuple[float, float]:
        """A 1-D interval holding essentially all the mass (for plots and quadrature)."""
        mean, std = self.mean_std()
        return mean - 6.0 * std, mean + 6.0 * std

    @staticmethod
    def _as_column(x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float64)
        return x.reshape(-1)


def _normal_log_prob(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std) - _LOG_SQRT_2PI


def _normal_cdf(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf((x - mean) / (std * _SQRT2)))


@dataclass
class Gaussian1D(ToyDistribution):
    """N(mean, std^2) in 1-D; the classic demo's target is N(4, 1.25^2) (Goodfellow et al. 2014 demo)."""

    mean: float = 4.0
    std: float = 1.25
    name: str = "gaussian"
    dim: int = 1

    def sample(self, n, generator=None):
        z = torch.randn(n, 1, generator=generator, dtype=torch.float64)
        return (self.mean + self.std * z).float()

    def log_prob(self, x):
        return _normal_log_prob(self._as_column(x), self.mean, self.std)

    def cdf(self, x):
        return _normal_cdf(self._as_column(x), self.mean, self.std)

    def mean_std(self):
        return self.mean, self.std


@dataclass
class Mixture1D(ToyDistribution):
    """A 1-D mixture of Gaussians with given means, stds and weights (weights normalised)."""

    means: tuple[float, ...] = (-2.0, 2.0)
    stds: tuple[float, ...] = (0.5, 0.5)
    weights: tuple[float, ...] | None = None
    name: str = "mixture-1d"
    dim: int = 1

    def __post_init__(self):
        k = len(self.means)
        if len(self.stds) != k or (self.weights is not None and len(self.weights) != k):
            raise ValueError("mixture: means, stds and weights must have the same length")
        if any(s <= 0 for s in self.stds):
            raise ValueError(f"mixture: stds must be > 0, got {list(self.stds)}")
        w = torch.ones(k, dtype=torch.float64) if self.weights is None else torch.tensor(
            self.weights, dtype=torch.float64
        )
        if (w <= 0).any():
            raise ValueError(f"mixture: weights must be > 0, got {w.tolist()}")
        self._w = w / w.sum()
        self._mu = torch.tensor(self.means, dtype=torch.float64)
        self._sd = torch.tensor(self.stds, dtype=torch.float64)

    def sample(self, n, generator=None):
        comp = torch.multinomial(self._w, n, replacement=True, generator=generator)
        z = torch.randn(n, generator=generator, dtype=torch.float64)
        return (self._mu[comp] + self._sd[comp] * z).float().unsqueeze(1)

    def log_prob(self, x):
        x = self._as_column(x).unsqueeze(1)
        comp = -0.5 * ((x - self._mu) / self._sd) ** 2 - torch.log(self._sd) - _LOG_SQRT_2PI
        return torch.logsumexp(comp + torch.log(self._w), dim=1)

    def cdf(self, x):
        x = self._as_column(x).unsqueeze(1)
        return (self._w * 0.5 * (1.0 + torch.erf((x - self._mu) / (self._sd * _SQRT2)))).sum(1)

    @property
    def modes(self):
        return self._mu.unsqueeze(1).float()

    @property
    def mode_std(self):
        return float(self._sd.max())

    def mean_std(self):
        mean = float((self._w * self._mu).sum())
        var = float((self._w * (self._sd**2 + self._mu**2)).sum()) - mean**2
        return mean, math.sqrt(var)


@dataclass
class Uniform1D(ToyDistribution):
    """U(low, high): a flat shape whose kurtosis (-1.2) a moment-matching learner cannot tell from a
    Gaussian's mean and std, but any shape metric can."""

    low: float = 2.0
    high: float = 6.0
    name: str = "uniform"
    dim: int = 1

    def __post_init__(self):
        if not self.high > self.low:
            raise ValueError(f"uniform: high ({self.high}) must exceed low ({self.low})")

    def sample(self, n, generator=None):
        u = torch.rand(n, 1, generator=generator, dtype=torch.float64)
        return (self.low + (self.high - self.low) * u).float()

    def log_prob(self, x):
        x = self._as_column(x)
        inside = (x >= self.low) & (x <= self.high)
        out = torch.full_like(x, -math.inf)
        out[inside] = -math.log(self.high - self.low)
        return out

    def cdf(self, x):
        x = self._as_column(x)
        return ((x - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def mean_std(self):
        return 0.5 * (self.low + self.high), (self.high - self.low) / math.sqrt(12.0)

    def support(self):
        pad = 0.25 * (self.high - self.low)
        return self.low - pad, self.high + pad


_REGISTRY: dict[str, Callable[..., ToyDistribution]] = {}


def register_toy(name: str, factory: Callable[..., ToyDistribution]) -> None:
    """Add a toy distribution factory under ``name``; a name can be registered once."""
    if name in _REGISTRY:
        raise ValueError(f"toy '{name}' is already registered")
    _REGISTRY[name] = factory


def toy_names() -> list[str]:
    return sorted(_REGISTRY)


def make_toy(name: str, **params) -> ToyDistribution:
    """Build the toy distribution registered as ``name`` with its parameters."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown toy distribution '{name}'; known: {', '.join(toy_names())}")
    return _REGISTRY[name](**params)


register_toy("gaussian", Gaussian1D)
register_toy("mixture-1d", Mixture1D)
register_toy("bimodal", lambda **p: Mixture1D(**{"means": (2.0, 6.0), "stds": (0.6, 0.6), **p},
                                               name="bimodal"))
register_toy("uniform", Uniform1D)
