"""Divergences between a generator's samples and a toy distribution whose density is known.

On a toy (`gankit.data.toy`) the data side is exact: its CDF (1-D), log density and mode centres
are known, so every number below compares the *empirical* distribution of the generated samples
with the *true* data distribution, not with another finite sample (except 2-D W1, which is
an optimal transport problem between two samples, reported beside its perfect-generator floor).

Building blocks (pure functions, float64 numpy inside; samples may be numpy or torch):

* :func:`ks_distance` -- Kolmogorov-Smirnov ``sup_x |F_n(x) - F(x)|``, exact (same statistic
  as ``scipy.stats.kstest``);
* :func:`wasserstein1_1d` -- ``W1 = int |F_n(x) - F(x)| dx`` between the empirical and the true
  distribution, by quadrature on the sorted samples merged with a dense grid, tails included;
* :func:`bin_probabilities`, :func:`js_divergence_binned`, :func:`binned_divergences` -- JSD and
  both KLs between the histogram of the samples and the true bin probabilities;
* :func:`kl_divergence`, :func:`js_divergence` -- on two probability vectors;
* :func:`moments` -- mean, std, skewness, excess kurtosis;
* :func:`wasserstein1_ot` -- exact optimal transport cost between two point clouds (POT);
* :func:`knn_divergences` -- KL and JSD in d dimensions from a k-nearest-neighbour density
  estimate of the generator and the exact data log density.

:func:`toy_metrics` picks every metric that fits a toy and returns a flat ``dict[str, float]``.
All divergences are in nats. Everything refuses (`gankit.errors.GankitError`) input on which it
would mean nothing: the wrong dimension, fewer than 2 samples, NaN or infinite values.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from gankit.data.toy import PointMass, ToyDistribution
from gankit.errors import GankitError
from gankit.metrics.checks import as_float64, check_finite
from gankit.metrics.modes import PACGAN_N_STD, PACGAN_SAMPLES, mode_metrics

CdfFn = Callable[[np.ndarray], np.ndarray]

#: Histogram protocol for 1-D JSD/KL: this many equal bins on mean +- ``HIST_HALF_WIDTH`` std of
#: the true distribution, plus one overflow bin on each side.
HIST_BINS = 120
HIST_HALF_WIDTH = 6.0
#: Pseudo-count added to every bin of the model histogram for ``KL(p_data || p_model)``
#: (Krichevsky-Trofimov / Jeffreys prior), so that an empty bin does not make it infinite.
PSEUDO_COUNT = 0.5
#: Dense grid points added to the sample points for the 1-D W1 quadrature, on mean +- 10 std.
W1_GRID = 8192
W1_HALF_WIDTH = 10.0
#: 2-D protocol: at most this many generated samples against as many fresh true samples.
OT_MAX_SAMPLES = 2000
KNN_K = 5
KNN_MAX_SAMPLES = 20000
EVAL_SEED = 20240601


# ----------------------------------------------------------------------------- input checks
def _samples_1d(samples, name: str = "samples", min_samples: int = 2) -> np.ndarray:
    """``(n,)`` or ``(n, 1)`` -> ``(n,)`` float64, refusing other shapes, NaN/inf, too few."""
    x = as_float64(samples, name)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise GankitError(f"{name}: a 1-D metric needs shape (n,) or (n, 1), got {tuple(x.shape)}")
    if x.shape[0] < min_samples:
        raise GankitError(f"{name}: needs at least {min_samples} samples, got {x.shape[0]}")
    check_finite(x, name)
    return x


def _samples_nd(samples, dim: int, name: str = "samples", min_samples: int = 2) -> np.ndarray:
    x = as_float64(samples, name)
    if dim == 1 and x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != dim:
        raise GankitError(f"{name}: expected shape (n, {dim}), got {tuple(x.shape)}")
    if x.shape[0] < min_samples:
        raise GankitError(f"{name}: needs at least {min_samples} samples, got {x.shape[0]}")
    check_finite(x, name)
    return x


def _cloud(samples, name: str, min_samples: int) -> np.ndarray:
    """Any ``(n, d)`` point cloud, ``d >= 1``, as float64, refusing NaN/inf and too few."""
    x = as_float64(samples, name)
    if x.ndim != 2 or x.shape[1] < 1:
        raise GankitError(f"{name}: expected a point cloud of shape (n, d), got {tuple(x.shape)}")
    return _samples_nd(x, x.shape[1], name, min_samples)


def _checked_cdf(cdf: CdfFn, x: np.ndarray) -> np.ndarray:
    f = np.asarray(cdf(x), dtype=np.float64).reshape(-1)
    if f.shape != x.shape:
        raise GankitError(f"cdf returned shape {f.shape} for {x.shape} points")
    if not np.isfinite(f).all():
        raise GankitError("cdf returned NaN or infinite values")
    return np.clip(f, 0.0, 1.0)


def toy_cdf(dist: ToyDistribution) -> CdfFn:
    """``dist.cdf`` as a float64 numpy function (1-D toys only)."""
    if dist.dim != 1:
        raise GankitError(f"toy '{dist.name}' is {dist.dim}-D: a CDF exists only in 1-D")
    return lambda x: dist.cdf(torch.from_numpy(np.asarray(x, dtype=np.float64))).numpy()


# ----------------------------------------------------------------------------- 1-D, exact
def ks_distance(samples, cdf: CdfFn) -> float:
    """Kolmogorov-Smirnov distance ``sup_x |F_n(x) - F(x)|`` in [0, 1].

    ``samples`` ``(n,)`` or ``(n, 1)``; ``cdf`` maps a float64 array to F of each point. The sup
    is exact: it is attained at a sample point, either just after a jump (``i/n - F(x_(i))``) or
    just before it (``F(x_(i)) - (i-1)/n``); ties are handled (the same statistic as
    ``scipy.stats.kstest(samples, cdf).statistic``).
    """
    x = np.sort(_samples_1d(samples))
    n = x.shape[0]
    f = _checked_cdf(cdf, x)
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(max((i / n - f).max(), (f - (i - 1) / n).max(), 0.0))


def wasserstein1_1d(samples, cdf: CdfFn, lo: float, hi: float, grid: int = W1_GRID) -> float:
    """Exact-up-to-quadrature ``W1 = int_R |F_n(x) - F(x)| dx`` (Vallender 1973).

    ``samples`` ``(n,)`` or ``(n, 1)``; ``[lo, hi]`` must hold essentially all of F's mass (the
    caller's true distribution: ``toy_metrics`` uses mean +- 10 std, beyond which a Gaussian
    mixture has less than 1e-22 of its mass). The integration points are the sorted samples
    (where ``F_n`` jumps) merged with ``grid`` equal steps on ``[lo, hi]``, so both tails --
    below the smallest sample, where ``F_n = 0``, and above the largest, where ``F_n = 1`` -- are
    integrated. On each interval ``F_n`` is constant and ``F`` is taken as linear, with the
    crossing of ``|c - F|`` through 0 integrated exactly: the error is ``O(h^2 F'')``.
    """
    x = np.sort(_samples_1d(samples))
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise GankitError(f"wasserstein1_1d: need finite lo < hi, got [{lo}, {hi}]")
    t = np.union1d(x, np.linspace(lo, hi, grid + 1))
    f = _checked_cdf(cdf, t)
    fn = np.searchsorted(x, t, side="right") / x.shape[0]  # F_n on [t_k, t_{k+1})
    a = fn[:-1] - f[:-1]
    b = fn[:-1] - f[1:]
    h = np.diff(t)
    same = a * b >= 0
    area = np.where(
        same,
        0.5 * (np.abs(a) + np.abs(b)),
        (a * a + b * b) / (2.0 * (np.abs(a) + np.abs(b)) + 1e-300),
    )
    return float((area * h).sum())


def moments(samples) -> dict[str, float]:
    """Mean, std, skewness and excess kurtosis of ``samples`` ``(n,)`` or ``(n, 1)``.

    Population (biased, divide-by-n) central moments, as ``scipy.stats.skew`` and
    ``scipy.stats.kurtosis(fisher=True, bias=True)``: ``skew = m3 / m2^1.5``,
    ``kurtosis = m4 / m2^2 - 3`` (a Gaussian gives 0, a uniform -1.2). ``std`` is ``sqrt(m2)``.
    When all samples are equal (a collapsed generator), skew and kurtosis are NaN (undefined).
    """
    x = _samples_1d(samples)
    mean = float(x.mean())
    d = x - mean
    m2 = float((d * d).mean())
    scale = max(abs(mean), float(np.abs(x).max()), 1e-300)
    if m2 <= (1e-14 * scale) ** 2:
        return {"mean": mean, "std": math.sqrt(m2), "skew": math.nan, "kurtosis": math.nan}
    m3 = float((d**3).mean())
    m4 = float((d**4).mean())
    return {"mean": mean, "std": math.sqrt(m2), "skew": m3 / m2**1.5, "kurtosis": m4 / m2**2 - 3.0}


# ----------------------------------------------------------------------------- 1-D, binned
def kl_divergence(p, q) -> float:
    """``KL(p || q) = sum p log(p / q)`` in nats for two probability vectors of equal length.

    ``0 log 0 = 0``; infinite where ``p > 0`` and ``q = 0`` (the true value, not an error).
    """
    p, q = _prob_pair(p, q)
    on = p > 0
    if (q[on] <= 0).any():
        return math.inf
    return float(max(0.0, (p[on] * np.log(p[on] / q[on])).sum()))


def js_divergence(p, q) -> float:
    """Jensen-Shannon divergence in nats, ``0.5 KL(p||m) + 0.5 KL(q||m)``, ``m = (p+q)/2``.

    Symmetric, in ``[0, log 2]``, 0 exactly when ``p == q``.
    """
    p, q = _prob_pair(p, q)
    m = 0.5 * (p + q)
    return float(min(math.log(2.0), 0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m)))


def _prob_pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    q = np.asarray(q, dtype=np.float64).reshape(-1)
    if p.shape != q.shape or p.size == 0:
        raise GankitError(
            f"divergence: p and q must be non-empty and alike, got {p.shape} and {q.shape}"
        )
    for v, name in ((p, "p"), (q, "q")):
        if not np.isfinite(v).all() or (v < 0).any() or abs(v.sum() - 1.0) > 1e-6:
            raise GankitError(f"divergence: {name} is not a probability vector (>= 0, sums to 1)")
    return p, q


def bin_probabilities(samples, cdf: CdfFn, lo: float, hi: float, bins: int = HIST_BINS):
    """True bin probabilities and sample counts on ``bins`` equal bins of ``[lo, hi]``.

    Returns ``(p_data, counts)``, both ``(bins + 2,)``: index 0 is the underflow bin
    ``(-inf, lo)``, indices ``1..bins`` the half-open bins ``[e_k, e_{k+1})`` and the last the
    overflow bin ``[hi, inf)``. So no mass is lost on either side and both sum to 1 (``p_data``)
    and to ``n`` (``counts``). ``p_data`` is exact from the CDF.
    """
    x = _samples_1d(samples)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo) or bins < 1:
        raise GankitError(f"bin_probabilities: need finite lo < hi and bins >= 1, got [{lo}, {hi}]")
    edges = np.linspace(lo, hi, bins + 1)
    f = _checked_cdf(cdf, edges)
    p = np.diff(np.concatenate([[0.0], np.maximum.accumulate(f), [1.0]]))
    p = np.clip(p, 0.0, None)
    p = p / p.sum()
    counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=bins + 2)
    return p, counts.astype(np.float64)


def binned_divergences(
    samples,
    cdf: CdfFn,
    lo: float,
    hi: float,
    bins: int = HIST_BINS,
    pseudo_count: float = PSEUDO_COUNT,
) -> dict[str, float]:
    """JSD and both KLs between the samples' histogram and the true bin probabilities (nats).

    Bins as in :func:`bin_probabilities` (with under/overflow bins). The model density is
    estimated by the histogram of the samples:

    * ``jsd`` and ``kl_model_data = KL(q || p_data)`` use the raw histogram ``q = counts / n``
      (neither needs smoothing: ``0 log 0 = 0``). ``kl_model_data`` is **infinite** when samples
      fall in a bin where the data has no mass (outside a uniform's support): that is its true
      value on these bins;
    * ``kl_data_model = KL(p_data || q~)`` uses ``q~ = (counts + a) / (n + a K)`` with a
      pseudo-count ``a`` (0.5) in each of the ``K`` bins, finite even when bins are empty.

    Binning can only lower a divergence (data-processing inequality); with 120 bins over 12
    std the loss is small for smooth densities, and the histogram's sampling bias is roughly
    ``+(K_eff - 1) / 2n``.
    """
    p, counts = bin_probabilities(samples, cdf, lo, hi, bins)
    n = counts.sum()
    q = counts / n
    q_smooth = (counts + pseudo_count) / (n + pseudo_count * counts.size)
    return {
        "jsd": js_divergence(p, q),
        "kl_data_model": kl_divergence(p, q_smooth),
        "kl_model_data": kl_divergence(q, p),
    }


def js_divergence_binned(samples, cdf: CdfFn, lo: float, hi: float, bins: int = HIST_BINS) -> float:
    """JSD (nats) between the samples' histogram and the true bin probabilities, see
    :func:`binned_divergences`."""
    p, counts = bin_probabilities(samples, cdf, lo, hi, bins)
    return js_divergence(p, counts / counts.sum())


# ----------------------------------------------------------------------------- toy metrics
def toy_metrics(dist: ToyDistribution, samples, seed: int = EVAL_SEED) -> dict[str, float]:
    """Every metric that fits ``dist``, on generated ``samples`` ``(n, dist.dim)``; all floats.

    1-D (``dist.cdf`` is known): ``ks`` (:func:`ks_distance`), ``w1`` (:func:`wasserstein1_1d`
    on mean +- 10 std), ``jsd``, ``kl_data_model``, ``kl_model_data`` (:func:`binned_divergences`:
    120 equal bins on mean +- 6 std of the true distribution plus an underflow and an overflow
    bin; model density = histogram, pseudo-count 0.5 for ``kl_data_model``), ``mean``, ``std``,
    ``skew``, ``kurtosis`` (excess; :func:`moments`).

    2-D (any ``dim >= 2``): ``w1`` (:func:`wasserstein1_ot`: the first 2,000 generated samples
    -- i.i.d., so an unbiased subset -- against as many fresh true samples drawn from a
    ``torch.Generator`` seeded with ``seed``, so repeated calls agree), ``w1_floor`` (the same
    protocol on independent true samples in place of the generated ones: what a perfect
    generator scores, since W1 between two finite samples is never 0; compare ``w1`` with it),
    and ``kl_model_data``, ``kl_data_model``, ``jsd`` (:func:`knn_divergences` on the first
    20,000 samples: k = 5 nearest-neighbour density of the generator, the exact data log density,
    Monte-Carlo averages, minus the same estimator's value on true samples; a perfect generator
    scores ~0 +- 0.01). The perfect-generator floors depend only on the toy, the sizes and
    ``seed``: they are computed once and kept in memory. About 0.6 s for 2,000+ samples (1.3 s on
    a first call), dominated by the exact transport problem.

    Infinite values are true values, not errors: ``kl_model_data`` is ``inf`` where the model
    puts mass where the data has none (1-D: a sample outside a uniform's support; 2-D: k or more
    identical samples, a point mass). ``skew``/``kurtosis`` are NaN for constant samples and
    ``reverse_kl`` NaN when no sample is high quality. Raises `GankitError` on samples of the
    wrong shape, with NaN/inf values, or fewer than 2 (6 in 2-D).

    The point mass (``dirac``, :class:`gankit.data.toy.PointMass`): only ``w1``, ``mean`` and
    ``std`` (:func:`point_mass_metrics`): KS and the binned divergences compare against a density
    and are 1 / log 2 for any sample that misses the atom, however close; W1 is exact.

    Any dimension, where ``dist.modes`` is not None: ``modes_covered``, ``n_modes``,
    ``high_quality``, ``reverse_kl`` (:func:`gankit.metrics.modes.mode_metrics`, PacGAN protocol
    on the first 2,500 samples, quality radius 3 ``dist.mode_std``).
    """
    x = _samples_nd(samples, dist.dim)
    if isinstance(dist, PointMass):
        out = point_mass_metrics(x[:, 0], dist.at)
    elif dist.dim == 1:
        out = _toy_metrics_1d(dist, x[:, 0])
    else:
        out = _toy_metrics_nd(dist, x, seed)
    if dist.modes is not None and dist.mode_std is not None:
        modes = mode_metrics(x[:PACGAN_SAMPLES], dist.modes, float(dist.mode_std), PACGAN_N_STD)
        out.update(modes)
    return out


def _toy_metrics_1d(dist: ToyDistribution, x: np.ndarray) -> dict[str, float]:
    cdf = toy_cdf(dist)
    mean, std = dist.mean_std()
    out = {"ks": ks_distance(x, cdf)}
    out["w1"] = wasserstein1_1d(x, cdf, mean - W1_HALF_WIDTH * std, mean + W1_HALF_WIDTH * std)
    out.update(
        binned_divergences(x, cdf, mean - HIST_HALF_WIDTH * std, mean + HIST_HALF_WIDTH * std)
    )
    out.update(moments(x))
    return out


def point_mass_metrics(samples, at: float) -> dict[str, float]:
    """Metrics of ``samples`` ``(n,)`` or ``(n, 1)`` against the point mass at ``at``.

    ``w1 = mean |x - at|``, the exact W1 to a point mass (its only coupling moves every sample to
    the atom); ``mean`` and ``std`` (population, divide by n) of the samples. For the Dirac-GAN,
    whose generator puts every sample at ``theta``, ``w1 = |theta - at|`` and ``std = 0``."""
    x = _samples_1d(samples)
    if not math.isfinite(at):
        raise GankitError(f"point_mass_metrics: at must be finite, got {at!r}")
    return {"w1": float(np.abs(x - at).mean()), "mean": float(x.mean()), "std": float(x.std())}


def _toy_metrics_nd(dist: ToyDistribution, x: np.ndarray, seed: int) -> dict[str, float]:
    n_ot = min(x.shape[0], OT_MAX_SAMPLES)
    n_knn = min(x.shape[0], KNN_MAX_SAMPLES)
    gen = torch.Generator().manual_seed(seed)
    truth = dist.sample(n_ot, gen).double().numpy()
    data = dist.sample(n_knn, gen).double().numpy()
    log_prob = _toy_log_prob(dist)
    # what a perfect generator scores under the same protocol: it depends only on the toy, the
    # sizes and the seed, so it is computed once per (toy, sizes, seed) and kept
    key = (repr(dist), n_ot, n_knn, seed)
    floors = _FLOORS.get(key)
    if floors is None:
        ref_gen = torch.Generator().manual_seed(seed + 1)
        reference = dist.sample(max(n_ot, n_knn), ref_gen).double().numpy()
        floors = {
            "w1": wasserstein1_ot(reference[:n_ot], truth),
            **_knn_raw(reference[:n_knn], data, log_prob, KNN_K),
        }
        if len(_FLOORS) >= 32:
            _FLOORS.pop(next(iter(_FLOORS)))
        _FLOORS[key] = floors
    out = {"w1": wasserstein1_ot(x[:n_ot], truth), "w1_floor": floors["w1"]}
    raw = _knn_raw(x[:n_knn], data, log_prob, KNN_K)
    out.update(_clip_divergences({k: raw[k] - floors[k] for k in raw}))
    return out


_FLOORS: dict[tuple, dict[str, float]] = {}


def _toy_log_prob(dist: ToyDistribution) -> Callable[[np.ndarray], np.ndarray]:
    return lambda pts: dist.log_prob(torch.from_numpy(pts)).double().numpy()


# ----------------------------------------------------------------------------- d-D
def wasserstein1_ot(a, b) -> float:
    """Exact W1 (earth mover's distance, Euclidean ground cost) between two point clouds.

    ``a`` ``(n, d)``, ``b`` ``(m, d)``, uniform weights; solved exactly by network simplex
    (POT ``ot.emd2``, Flamary et al. 2021) with an iteration cap high enough to converge (a
    solver that stops early raises instead of returning a wrong number). O(n^2) memory: keep n
    and m to a few thousand. Between two finite samples of the same distribution W1 is not 0 but
    shrinks like ``n^(-1/d)`` -- compare with the same protocol on two true samples (``w1_floor``
    in :func:`toy_metrics`).
    """
    import ot  # heavy import (~1 s, POT): only 2-D toys' exact W1 needs it

    a = _cloud(a, "a", 1)
    b = _samples_nd(b, a.shape[1], "b", 1)
    cost = ot.dist(a, b, metric="euclidean")
    wa = np.full(a.shape[0], 1.0 / a.shape[0])
    wb = np.full(b.shape[0], 1.0 / b.shape[0])
    value, log = ot.emd2(wa, wb, cost, numItermax=50_000_000, log=True)
    if log.get("warning"):
        raise GankitError(f"wasserstein1_ot: the exact solver did not converge ({log['warning']})")
    return float(value)


def knn_log_density(model, points, k: int = KNN_K, leave_one_out: bool = False) -> np.ndarray:
    """k-nearest-neighbour estimate of ``log p_model`` at ``points``, ``(m,)`` float64.

    ``log p(y) = psi(k) - log N - log V_d - d log r_k(y)``, with ``r_k`` the distance from ``y``
    to its k-th nearest ``model`` sample, ``V_d`` the unit ball's volume and ``N`` the number of
    model samples (``n - 1`` with ``leave_one_out``, when ``points`` are the model samples
    themselves and each one's own zero distance is skipped). The digamma ``psi(k)`` in place of
    ``log k`` makes the *mean log density* consistent (Kozachenko and Leonenko 1987; Wang,
    Kulkarni and Verdu 2009), which is what KL and entropy estimates need. ``+inf`` where
    ``r_k = 0`` (``k`` or more identical samples: a point mass).
    """

    n, d = model.shape
    kk = k + 1 if leave_one_out else k
    if n < kk:
        raise GankitError(f"knn density: needs at least {kk} model samples, got {n}")
    r, _ = cKDTree(model).query(points, k=[kk])
    r = r[:, 0]
    log_vd = 0.5 * d * math.log(math.pi) - float(gammaln(0.5 * d + 1.0))
    big_n = n - 1 if leave_one_out else n
    with np.errstate(divide="ignore"):
        return float(digamma(k)) - math.log(big_n) - log_vd - d * np.log(r)


def knn_divergences(
    model, data, data_log_prob: Callable[[np.ndarray], np.ndarray], k: int = KNN_K, reference=None
) -> dict[str, float]:
    """KL both ways and JSD (nats) between a generator and a distribution with known density.

    ``model`` ``(n, d)`` generated samples, ``data`` ``(m, d)`` true samples, ``data_log_prob``
    the exact data log density (float64 array in, ``(len,)`` out). The model density is the
    k-nearest-neighbour estimate of :func:`knn_log_density` (k = 5), which adapts to the scale
    of each region (a fixed-bandwidth KDE or a grid histogram cannot resolve modes of std 0.01
    next to a spread of 4), and every expectation is a Monte-Carlo average, with
    ``lm = log p^_model`` and ``ld = log p_data``:

    * ``kl_model_data = mean_i [lm(x_i) - ld(x_i)]`` over the model samples (leave-one-out):
      the Kozachenko-Leonenko entropy estimate plus an exact cross-entropy;
    * ``kl_data_model = mean_j [ld(y_j) - lm(y_j)]`` over the data samples;
    * ``jsd = 1/2 mean_i log(2 / (1 + exp(ld - lm)))(x_i)
      + 1/2 mean_j log(2 / (1 + exp(lm - ld)))(y_j)``.

    These are consistent as n, m grow, but at n = 2,000 they carry a bias of a few 1e-2 (the
    kNN estimate's curvature bias for KL, its noise through the log for JSD), so that a perfect
    generator would not score 0. With ``reference`` -- ``(n, d)`` true samples, independent of
    ``data`` and as many as ``model`` -- the same estimator's value on ``reference`` in place of
    ``model`` (what a perfect generator scores) is subtracted from each. Results are clipped to
    ``[0, inf]`` (KL) and ``[0, log 2]`` (JSD); they are for comparing runs and watching
    training, with a noise floor of about 0.01 at n = 2,000.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise GankitError(f"knn_divergences: k must be an integer >= 1, got {k!r}")
    model = _cloud(model, "model samples", k + 1)
    data = _samples_nd(data, model.shape[1], "data samples", 1)
    raw = _knn_raw(model, data, data_log_prob, k)
    if reference is not None:
        reference = _samples_nd(reference, model.shape[1], "reference samples", k + 1)
        floor = _knn_raw(reference, data, data_log_prob, k)
        raw = {key: raw[key] - floor[key] for key in raw}
    return _clip_divergences(raw)


def _clip_divergences(raw: dict[str, float]) -> dict[str, float]:
    # estimates can dip below 0 by their noise; a divergence cannot
    return {
        "kl_model_data": max(raw["kl_model_data"], 0.0),
        "kl_data_model": max(raw["kl_data_model"], 0.0),
        "jsd": min(max(raw["jsd"], 0.0), math.log(2.0)),
    }


def _knn_raw(model: np.ndarray, data: np.ndarray, data_log_prob, k: int) -> dict[str, float]:
    lpm_model = knn_log_density(model, model, k, leave_one_out=True)
    lpm_data = knn_log_density(model, data, k)
    lpd_model = np.asarray(data_log_prob(model), dtype=np.float64).reshape(-1)
    lpd_data = np.asarray(data_log_prob(data), dtype=np.float64).reshape(-1)
    log2 = math.log(2.0)
    # log(2 a / (a + b)) = log 2 - log(1 + b / a); +inf log densities (point masses) give log 2
    js_model = log2 - np.logaddexp(0.0, lpd_model - lpm_model)
    js_data = log2 - np.logaddexp(0.0, lpm_data - lpd_data)
    return {
        "kl_model_data": float(np.mean(lpm_model - lpd_model)),
        "kl_data_model": float(np.mean(lpd_data - lpm_data)),
        "jsd": 0.5 * float(js_model.mean()) + 0.5 * float(js_data.mean()),
    }
