"""Mode coverage of samples from a mixture with known mode centres (the PacGAN protocol).

Lin, Khetan, Fanti and Oh, "PacGAN: The power of two samples in generative adversarial networks"
(NeurIPS 2018), Section 5.1, following Srivastava et al. 2017 (VEEGAN) on the 2-D ring and grid:

* a generated sample is *high quality* when it lies within ``n_std = 3`` standard deviations of
  its nearest mode centre (Euclidean distance divided by the mode's std, as in the reference code
  `fjxmlzn/PacGAN` ``MetricLogger``: ``dis < dis_thre``, strictly);
* a mode is *covered* when it receives at least one high-quality sample;
* the *reverse KL* is ``KL(q || u)`` between the histogram ``q`` of the high-quality samples over
  the modes and the uniform distribution ``u`` over the ``m`` modes:
  ``sum_j q_j log(q_j m)``, in nats, with ``0 log 0 = 0``. It is 0 when the high-quality samples
  are spread evenly and ``log m`` when they all sit on one mode.

The paper draws 2,500 samples; :func:`gankit.metrics.divergences.toy_metrics` follows that, this
function scores whatever it is given.
"""

from __future__ import annotations

import math

import numpy as np

from gankit.errors import GankitError
from gankit.metrics.checks import as_float64, check_finite

PACGAN_SAMPLES = 2500
PACGAN_N_STD = 3.0


def mode_counts(samples, centres, std: float, n_std: float = PACGAN_N_STD) -> np.ndarray:
    """High-quality samples per mode: ``(m,)`` int64 counts (see the module docstring).

    ``samples`` is ``(n, d)`` (or ``(n,)`` for 1-D), ``centres`` ``(m, d)``; numpy or torch.
    Raises `GankitError` on mismatched shapes, non-finite values or a non-positive ``std``.
    """
    x, c = _check(samples, centres, std, n_std)
    return _counts(x, c, float(std), float(n_std))


def _counts(x: np.ndarray, c: np.ndarray, std: float, n_std: float) -> np.ndarray:
    # squared distances through |x|^2 - 2 x.c + |c|^2 would lose precision far from the origin;
    # m is small (8, 25), so a loop over the modes keeps memory at O(n) and stays exact.
    best = np.full(x.shape[0], np.inf)
    nearest = np.zeros(x.shape[0], dtype=np.int64)
    for j in range(c.shape[0]):
        d2 = ((x - c[j]) ** 2).sum(axis=1)
        closer = d2 < best
        best[closer] = d2[closer]
        nearest[closer] = j
    good = np.sqrt(best) < n_std * std
    return np.bincount(nearest[good], minlength=c.shape[0])


def mode_metrics(samples, centres, std: float, n_std: float = PACGAN_N_STD) -> dict[str, float]:
    """PacGAN mode metrics of ``samples`` ``(n, d)`` against mode ``centres`` ``(m, d)``.

    Returns floats: ``modes_covered`` (number of modes with at least one high-quality sample),
    ``n_modes`` (``m``), ``high_quality`` (fraction of samples in [0, 1] that are high quality)
    and ``reverse_kl`` (``KL(q || uniform)`` in nats, in ``[0, log m]``; NaN when no sample is
    high quality, since the histogram ``q`` is then undefined). ``std`` is the modes' common
    standard deviation, ``n_std`` the quality radius in stds (3 in the paper).
    """
    x, c = _check(samples, centres, std, n_std)
    counts = _counts(x, c, float(std), float(n_std))
    n, m = x.shape[0], c.shape[0]
    good = int(counts.sum())
    return {
        "modes_covered": float((counts > 0).sum()),
        "n_modes": float(m),
        "high_quality": good / n,
        "reverse_kl": reverse_kl_uniform(counts) if good > 0 else math.nan,
    }


def reverse_kl_uniform(counts) -> float:
    """``KL(q || uniform)`` of the histogram ``q = counts / sum(counts)`` over ``m`` bins.

    ``sum_j q_j log(q_j m)`` in nats with ``0 log 0 = 0`` (PacGAN's "reverse KL").
    Raises `GankitError` when the counts are negative or all zero.
    """
    counts = np.asarray(counts, dtype=np.float64).reshape(-1)
    if counts.size == 0 or (counts < 0).any() or not np.isfinite(counts).all():
        raise GankitError("reverse_kl: counts must be a non-empty vector of finite values >= 0")
    total = counts.sum()
    if total <= 0:
        raise GankitError("reverse_kl: all counts are zero, the histogram over modes is undefined")
    q = counts[counts > 0] / total
    return float(max(0.0, (q * np.log(q * counts.size)).sum()))


def _check(samples, centres, std, n_std) -> tuple[np.ndarray, np.ndarray]:
    if centres is None:
        raise GankitError("mode metrics need mode centres; this distribution has no modes")
    x = as_float64(samples, "samples")
    c = as_float64(centres, "centres")
    if c.ndim == 1:
        c = c[:, None]
    if x.ndim == 1 and c.shape[1] == 1:
        x = x[:, None]
    if x.ndim != 2 or c.ndim != 2:
        raise GankitError(
            f"mode metrics: samples must be (n, d) and centres (m, d), got shapes "
            f"{tuple(x.shape)} and {tuple(c.shape)}"
        )
    if x.shape[1] != c.shape[1]:
        raise GankitError(
            f"mode metrics: samples have {x.shape[1]} dimensions but centres have {c.shape[1]}"
        )
    if x.shape[0] < 1 or c.shape[0] < 1:
        raise GankitError(
            f"mode metrics: need at least one sample and one centre, got {x.shape[0]} and "
            f"{c.shape[0]}"
        )
    check_finite(x, "samples")
    check_finite(c, "centres")
    if not (isinstance(std, (int, float, np.floating)) and math.isfinite(std) and std > 0):
        raise GankitError(f"mode metrics: std must be a finite number > 0, got {std!r}")
    if not (isinstance(n_std, (int, float, np.floating)) and math.isfinite(n_std) and n_std > 0):
        raise GankitError(f"mode metrics: n_std must be a finite number > 0, got {n_std!r}")
    return x, c
