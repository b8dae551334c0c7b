"""Reading a logged series for swings: smoothing, crossings of its middle, its amplitude, and
whether an evaluated divergence (toys' w1/jsd/ks, images' FID) cycles instead of decreasing.
Shared by the non-convergence detectors of toys (`gankit.diagnose.detectors`) and images
(`gankit.diagnose.images`)."""

from __future__ import annotations

import numpy as np

# an evaluated divergence "cycles" (`metric_cycles`) only with enough evaluations of the second
# half to see a swing: 6 is three up-and-downs at the least (the Dirac-GAN's orbit of ~125 steps
# evaluated every 50 steps gives 20)
OSC_METRIC_EVALS = 6
# ... whose minimum is below this fraction of their maximum: a swing by a factor of 2 at least,
# far beyond the evaluation noise of a converged run (its FID or W1 varies by a few percent)
OSC_METRIC_SWING = 0.5


def smooth(x: np.ndarray, w: int) -> np.ndarray:
    """Moving average over ``w`` values (``x`` itself where shorter)."""
    if len(x) < w:
        return x.copy()
    kernel = np.ones(w) / w
    return np.convolve(x, kernel, mode="valid")


def crossings(s: np.ndarray, centre: float, band: float) -> list[int]:
    """Indices where ``s`` crosses from below ``centre - band`` to above ``centre + band``
    or back."""
    out, state = [], 0
    for i, v in enumerate(s):
        new = 1 if v > centre + band else (-1 if v < centre - band else 0)
        if new and new != state:
            if state:
                out.append(i)
            state = new
    return out


def amplitude(s: np.ndarray) -> float:
    """The 5-95 % range of ``s`` (0 for an empty series)."""
    return float(np.percentile(s, 95) - np.percentile(s, 5)) if len(s) else 0.0


def metric_cycles(values: list[float]) -> bool:
    """The evaluated divergence of the second half swings instead of decreasing: at least
    ``OSC_METRIC_EVALS`` evaluations, the minimum below ``OSC_METRIC_SWING`` of the maximum, at
    least two crossings of the middle of its 5-95 % range (a band of a quarter of that range),
    and the later half's maximum at least half the earlier half's (a decreasing series fails
    the crossings or this)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < OSC_METRIC_EVALS or v.max() <= 0:
        return False
    q = len(v) // 2
    swings = v.min() < OSC_METRIC_SWING * v.max()
    mid = 0.5 * float(np.percentile(v, 5) + np.percentile(v, 95))
    crosses = len(crossings(v, mid, 0.25 * amplitude(v))) >= 2
    return bool(swings and crosses and v[q:].max() >= 0.5 * v[:q].max())
