"""Toy distributions whose density is known exactly, so that a GAN's samples can be scored exactly.

Every distribution follows one small interface, `ToyDistribution`:

* ``sample(n, generator) -> (n, dim)`` float32 tensor, drawn only from the given
  ``torch.Generator``;
* ``log_prob(x) -> (n,)`` float64 log density of ``x`` (``(n, dim)``);
* ``cdf(x)`` for 1-D distributions (``(n,)`` or ``(n, 1)`` in, ``(n,)`` float64 out);
* ``modes`` (``(m, dim)`` centres) and ``mode_std`` where the distribution is a mixture of modes.

1-D: ``gaussian`` (N(4, 1.25^2)), ``mixture-1d``, ``bimodal``, ``uniform``, ``dirac`` (a point
mass, the data of the Dirac-GAN of Mescheder et al. 2018, :class:`PointMass`). 2-D, all equal-weight
Gaussian mixtures (:class:`GaussianMixture2D`) so that ``log_prob`` is exact for ``sample``:
``ring-8`` and ``grid-25`` (VEEGAN / PacGAN), ``spiral``, ``swiss-roll``, ``mixture-2d``.
Errors are `gankit.errors.GankitError` (a ``ValueError``).

Look distributions up by name with :func:`make_toy`; register new ones with :func:`register_toy`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gankit.config import MAX_COUNT, Number, Numbers, check_table
from gankit.errors import GankitError

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
        raise GankitError(f"toy '{self.name}' has no CDF (only 1-D distributions do)")

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
        raise GankitError(f"toy '{self.name}' has no 1-D mean/std")

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
    """N(mean, std^2) in 1-D; the classic demo's target is N(4, 1.25^2) (Goodfellow et al. 2014
    demo)."""

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
            lengths = f"means: {k}, stds: {len(self.stds)}"
            if self.weights is not None:
                lengths += f", weights: {len(self.weights)}"
            raise GankitError(
                f"data.params.stds: means, stds and weights must have the same length ({lengths})"
            )
        if any(s <= 0 for s in self.stds):
            raise GankitError(f"mixture: stds must be > 0, got {list(self.stds)}")
        w = (
            torch.ones(k, dtype=torch.float64)
            if self.weights is None
            else torch.tensor(self.weights, dtype=torch.float64)
        )
        if (w <= 0).any():
            raise GankitError(f"mixture: weights must be > 0, got {w.tolist()}")
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
        if not self.high - self.low >= MIN_SCALE:
            raise GankitError(
                f"data.params.high: {self.high!r} must exceed data.params.low ({self.low!r}) "
                f"by at least {MIN_SCALE}"
            )

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


@dataclass
class PointMass(ToyDistribution):
    """The point mass at ``at`` (default 0): the data of the Dirac-GAN (Mescheder, Geiger &
    Nowozin 2018, "Which training methods for GANs do actually converge?"; see
    :mod:`gankit.game.dirac`).

    ``sample`` returns ``at`` every time (it draws nothing from the generator); ``cdf`` is the
    step ``1[x >= at]``; ``log_prob`` is ``+inf`` at ``at`` and ``-inf`` elsewhere (a density
    w.r.t. Lebesgue measure does not exist: this is the limit of narrowing Gaussians).
    ``mean_std`` is ``(at, 0)``, so the standard interval ``mean +- 6 std`` would be empty:
    :meth:`support` is ``at +- SUPPORT_HALF_WIDTH`` instead, wide enough for the Dirac-GAN's
    orbit from ``theta = 1`` (plots, D's read-out on a grid). The exact metrics of a point mass
    are in :func:`gankit.metrics.divergences.toy_metrics` (``w1 = mean |x - at|``)."""

    at: float = 0.0
    name: str = "dirac"
    dim: int = 1

    SUPPORT_HALF_WIDTH = 2.0

    def __post_init__(self):
        if (
            isinstance(self.at, bool)
            or not isinstance(self.at, (int, float))
            or not math.isfinite(self.at)
        ):
            raise GankitError(f"dirac: at must be a finite number, got {self.at!r}")
        self.at = float(self.at)

    def sample(self, n, generator=None):
        return torch.full((n, 1), self.at, dtype=torch.float32)

    def log_prob(self, x):
        x = self._as_column(x)
        out = torch.full_like(x, -math.inf)
        out[x == self.at] = math.inf
        return out

    def cdf(self, x):
        return (self._as_column(x) >= self.at).to(torch.float64)

    def mean_std(self):
        return self.at, 0.0

    def support(self):
        return self.at - self.SUPPORT_HALF_WIDTH, self.at + self.SUPPORT_HALF_WIDTH


@dataclass
class GaussianMixture2D(ToyDistribution):
    """An equal-weight mixture of isotropic Gaussians ``N(c_j, std^2 I)`` around ``centres``.

    ``centres`` is a sequence of ``m`` points of equal dimension (2 for every built-in world).
    Sampling draws a component uniformly, then Gaussian noise, so :meth:`log_prob` is *exact* for
    what :meth:`sample` draws: ``log p(x) = logsumexp_j log N(x; c_j, std^2 I) - log m``.
    ``report_modes`` says whether the components are separate modes (the ring, the grid), whose
    coverage the PacGAN metrics can count, or only a discretisation of a curve (the spiral, the
    swiss roll), where ``modes`` is None.
    """

    centres: tuple = ((1.0, 0.0), (-1.0, 0.0))
    std: float = 0.05
    name: str = "mixture-2d"
    report_modes: bool = True
    dim: int = 2

    def __post_init__(self):
        c = torch.as_tensor(self.centres, dtype=torch.float64)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
            raise GankitError(
                f"{self.name}: centres must be (m, d) with m, d >= 1, got shape {tuple(c.shape)}"
            )
        if not torch.isfinite(c).all():
            raise GankitError(f"{self.name}: centres must be finite")
        if not (isinstance(self.std, (int, float)) and math.isfinite(self.std) and self.std > 0):
            raise GankitError(f"{self.name}: std must be a finite number > 0, got {self.std!r}")
        self._c = c
        self.dim = int(c.shape[1])

    def sample(self, n, generator=None):
        comp = torch.randint(self._c.shape[0], (n,), generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return (self._c[comp] + self.std * z).float()

    def log_prob(self, x):
        x = torch.as_tensor(x, dtype=torch.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise GankitError(
                f"{self.name}: log_prob needs points of shape (n, {self.dim}), got {tuple(x.shape)}"
            )
        m = self._c.shape[0]
        const = -math.log(m) - self.dim * (math.log(self.std) + _LOG_SQRT_2PI)
        out = torch.empty(x.shape[0], dtype=torch.float64)
        c2 = (self._c**2).sum(1)
        step = max(1, 2_000_000 // m)  # bounded memory for many components
        for i in range(0, x.shape[0], step):
            xi = x[i : i + step]
            # |x - c|^2 by expansion (a matmul), in float64: the cancellation error, ~1e-16 |x|^2,
            # is far below the smallest std^2 (1e-4) for points near the data
            d2 = ((xi**2).sum(1, keepdim=True) - 2.0 * xi @ self._c.T + c2).clamp_min(0.0)
            out[i : i + step] = torch.logsumexp(-0.5 * d2 / self.std**2, dim=1) + const
        return out

    @property
    def centres_tensor(self) -> torch.Tensor:
        """``(m, dim)`` float64 component centres, whether or not they count as modes."""
        return self._c.clone()

    @property
    def modes(self):
        return self._c.float() if self.report_modes else None

    @property
    def mode_std(self):
        return float(self.std) if self.report_modes else None

    def mean_cov(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact mean ``(dim,)`` and covariance ``(dim, dim)`` (float64):
        ``mean(c_j)`` and ``std^2 I + cov(c_j)`` (the centres' covariance dividing by m)."""
        mean = self._c.mean(0)
        d = self._c - mean
        return mean, self.std**2 * torch.eye(self.dim, dtype=torch.float64) + d.T @ d / d.shape[0]

    def bounds(self, n_std: float = 4.0) -> tuple[tuple[float, float], ...]:
        """Per axis ``(low, high)``: the centres' range padded by ``n_std`` stds (for plots)."""
        lo = (self._c.min(0).values - n_std * self.std).tolist()
        hi = (self._c.max(0).values + n_std * self.std).tolist()
        return tuple(zip(lo, hi))


def ring(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture2D:
    """``ring-8``: 8 Gaussians on a circle of radius 1, std 0.01, mode j at angle 2 pi j / 8.

    The 2-D ring of Srivastava et al. 2017 (VEEGAN) as used by Lin et al. 2018 (PacGAN), whose
    reference code (`fjxmlzn/PacGAN`, 2DRing config) uses exactly these means and variances.
    """
    if isinstance(n_modes, bool) or not isinstance(n_modes, int) or n_modes < 1:
        raise GankitError(f"ring: n_modes must be an integer >= 1, got {n_modes!r}")
    angles = [2.0 * math.pi * j / n_modes for j in range(n_modes)]
    centres = tuple((radius * math.cos(a), radius * math.sin(a)) for a in angles)
    return GaussianMixture2D(centres, std, name=f"ring-{n_modes}")


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """``grid-25``: 25 Gaussians at ``{-4, -2, 0, 2, 4}^2``, std 0.05.

    The 2-D grid of Srivastava et al. 2017 (VEEGAN) as used by Lin et al. 2018 (PacGAN), whose
    reference code (`fjxmlzn/PacGAN`, 2DGrid config) uses exactly these means and variances.
    """
    if isinstance(side, bool) or not isinstance(side, int) or side < 1:
        raise GankitError(f"grid: side must be an integer >= 1, got {side!r}")
    ticks = [spacing * (i - (side - 1) / 2.0) for i in range(side)]
    centres = tuple((a, b) for a in ticks for b in ticks)
    return GaussianMixture2D(centres, std, name=f"grid-{side * side}")


def spiral(n_centres: int = 400, std: float = 0.08, turns: float = 1.5) -> GaussianMixture2D:
    """``spiral``: two interleaved arms of an Archimedean spiral, as a mixture along the curve.

    The shape of the "2spirals" toy of Grathwohl et al. 2019 (FFJORD): arm 1 is
    ``theta (-cos theta, sin theta) / 3`` for ``theta = 2 pi turns sqrt(u)``, ``u ~ U(0, 1)``,
    and arm 2 its point reflection. Here ``u`` takes ``n_centres / 2`` equally spaced
    quantile values ``(k + 1/2) / (n/2)`` per arm (so the centres are about equally spaced in
    arc length: 0.074 apart by default, less than ``std``, widening to 0.135 at the very centre),
    and each centre gets isotropic noise
    ``std``: :meth:`GaussianMixture2D.log_prob` is exact for this generative process, which
    differs from FFJORD's continuous ``u`` and uniform noise by a smooth, tiny ripple.
    """
    if isinstance(n_centres, bool) or not isinstance(n_centres, int) or n_centres < 2:
        raise GankitError(f"spiral: n_centres must be an integer >= 2, got {n_centres!r}")
    half = n_centres // 2
    arm = []
    for k in range(half):
        theta = 2.0 * math.pi * turns * math.sqrt((k + 0.5) / half)
        arm.append((-theta * math.cos(theta) / 3.0, theta * math.sin(theta) / 3.0))
    centres = tuple(arm) + tuple((-a, -b) for a, b in arm)
    return GaussianMixture2D(centres, std, name="spiral", report_modes=False)


def swiss_roll(n_centres: int = 300, std: float = 0.1) -> GaussianMixture2D:
    """``swiss-roll``: the 2-D swiss roll as a mixture of Gaussians along the curve.

    The curve of ``sklearn.datasets.make_swiss_roll`` projected on its (x, z) plane and scaled by
    1/5: ``t (cos t, sin t) / 5`` for ``t = 1.5 pi (1 + 2 u)``. Here ``u`` takes ``n_centres``
    equally spaced values ``(k + 1/2) / n``, and each centre gets isotropic noise ``std``
    (sklearn's ``noise = 0.5`` before the scaling), so :meth:`GaussianMixture2D.log_prob` is exact
    for what :meth:`GaussianMixture2D.sample` draws; neighbouring centres lie at most ~0.09
    apart, less than ``std``, so the density is a smooth ridge along the curve.
    """
    if isinstance(n_centres, bool) or not isinstance(n_centres, int) or n_centres < 1:
        raise GankitError(f"swiss-roll: n_centres must be an integer >= 1, got {n_centres!r}")
    ts = [1.5 * math.pi * (1.0 + 2.0 * (k + 0.5) / n_centres) for k in range(n_centres)]
    centres = tuple((t * math.cos(t) / 5.0, t * math.sin(t) / 5.0) for t in ts)
    return GaussianMixture2D(centres, std, name="swiss-roll", report_modes=False)


_REGISTRY: dict[str, Callable[..., ToyDistribution]] = {}
#: the parameters each toy takes (``data.params.*``), declared for `gankit.config.check_table`
_PARAMS: dict[str, dict[str, Number | Numbers]] = {}

# The ranges of the toys' parameters: wide enough for any experiment, narrow enough that
# float32 samples, their standardisation and the exact densities stay finite and distinct.
#: the largest distance from the origin of a location (a mean, a centre, a bound)
MAX_LOCATION = 1e4
#: the smallest and the largest scale (a standard deviation, a radius, a spacing)
MIN_SCALE, MAX_SCALE = 1e-4, 1e4
#: centres of the curve-shaped mixtures (spiral, swiss-roll), and the grid's side
MAX_CENTRES, MAX_GRID_SIDE = 10_000, 64

LOCATION = Number(-MAX_LOCATION, MAX_LOCATION)
SCALE = Number(MIN_SCALE, MAX_SCALE)
WEIGHT = Number(1e-6, 1e6)
MIXTURE_1D = {
    "means": Numbers(LOCATION),
    "stds": Numbers(SCALE),
    "weights": Numbers(WEIGHT),
}


def register_toy(
    name: str,
    factory: Callable[..., ToyDistribution],
    params: dict[str, Number | Numbers] | None = None,
) -> None:
    """Add a toy distribution factory under ``name``; a name can be registered once.
    ``params``: the parameters it takes (``data.params.*``), each with its type and range
    (`gankit.config.Number`, `gankit.config.Numbers`); `make_toy` refuses any other, naming
    it. Without it, every finite number or list of them reaches ``factory``."""
    if name in _REGISTRY:
        raise GankitError(f"toy '{name}' is already registered")
    _REGISTRY[name] = factory
    if params is not None:
        _PARAMS[name] = dict(params)


def toy_params(name: str) -> dict[str, Number | Numbers] | None:
    """The declared parameters of toy ``name`` (None when it declares none)."""
    return _PARAMS.get(name)


def toy_names() -> list[str]:
    return sorted(_REGISTRY)


def make_toy(name: str, **params) -> ToyDistribution:
    """Build the toy distribution registered as ``name`` with its parameters."""
    if name not in _REGISTRY:
        raise GankitError(f"unknown toy distribution '{name}'; known: {', '.join(toy_names())}")
    if name in _PARAMS:
        params = check_table("data.params", params, _PARAMS[name], f"toy '{name}'")
    return _REGISTRY[name](**params)


register_toy("gaussian", Gaussian1D, {"mean": LOCATION, "std": SCALE})
register_toy("mixture-1d", Mixture1D, MIXTURE_1D)
register_toy(
    "bimodal",
    lambda **p: Mixture1D(**{"means": (2.0, 6.0), "stds": (0.6, 0.6), **p}, name="bimodal"),
    MIXTURE_1D,
)
register_toy("uniform", Uniform1D, {"low": LOCATION, "high": LOCATION})
register_toy("dirac", PointMass, {"at": LOCATION})
register_toy(
    "mixture-2d",
    GaussianMixture2D,
    {"centres": Numbers(LOCATION, width=(1, 64)), "std": SCALE},
)
register_toy(
    "ring-8",
    ring,
    {"n_modes": Number(1, MAX_COUNT, integer=True), "radius": SCALE, "std": SCALE},
)
register_toy(
    "grid-25",
    grid,
    {"side": Number(1, MAX_GRID_SIDE, integer=True), "spacing": SCALE, "std": SCALE},
)
register_toy(
    "spiral",
    spiral,
    {
        "n_centres": Number(2, MAX_CENTRES, integer=True),
        "std": SCALE,
        "turns": Number(0.0, 100.0, lo_open=True),
    },
)
register_toy(
    "swiss-roll", swiss_roll, {"n_centres": Number(1, MAX_CENTRES, integer=True), "std": SCALE}
)
