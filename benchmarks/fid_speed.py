"""FID speed: gankit's float64 eigenvalue route against the pytorch-fid route (numpy covariance +
``scipy.linalg.sqrtm``), in the same run, on two 10,000 x 2048 feature sets.

Prints two time ratios (Fréchet distance from the statistics, target >= 5x; FID end to end from
the features, target >= 3x) and the relative difference of the values (target < 1e-6).
Timings are the best of several runs (CPU, float64 on both sides).
Usage: ``python benchmarks/fid_speed.py [--n 10000] [--dim 2048] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg

from gankit.metrics import fid, frechet_distance


def pytorch_fid_stats(x):
    """pytorch-fid's ``calculate_activation_statistics``: mean and ``np.cov`` (N - 1)."""
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def pytorch_fid_frechet(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid's ``calculate_frechet_distance`` route, written from its description."""
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def make_features(n, d, seed):
    """Inception-like features: non-negative, correlated (low-rank + diagonal structure)."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((64, d)) / 8
    z = rng.standard_normal((n, 64)) @ basis + 0.3 * rng.standard_normal((n, d))
    return np.abs(z + 0.2 * seed).astype(np.float32)


def best_time(fn, repeats):
    times, value = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3, help="gankit runs (best kept)")
    parser.add_argument("--ref-repeats", type=int, default=2, help="pytorch-fid route runs")
    args = parser.parse_args()
    a, b = make_features(args.n, args.dim, 0), make_features(args.n, args.dim, 1)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    (mu1, s1), (mu2, s2) = pytorch_fid_stats(a64), pytorch_fid_stats(b64)

    t_ref_stat, ref = best_time(lambda: pytorch_fid_frechet(mu1, s1, mu2, s2), args.ref_repeats)
    t_our_stat, ours = best_time(lambda: frechet_distance(mu1, s1, mu2, s2), args.repeats)

    def ref_end_to_end():
        return pytorch_fid_frechet(*pytorch_fid_stats(a64), *pytorch_fid_stats(b64))

    t_ref_e2e, ref_e2e = best_time(ref_end_to_end, args.ref_repeats)
    t_our_e2e, ours_e2e = best_time(lambda: fid(a, b), args.repeats)

    rel = abs(ours - ref) / abs(ref)
    rel_e2e = abs(ours_e2e - ref_e2e) / abs(ref_e2e)
    print(f"features: 2 x {args.n} x {args.dim}; FID = {ours:.6f} (pytorch-fid route {ref:.6f})")
    print(
        f"Frechet distance from statistics: gankit {t_our_stat:.2f} s, sqrtm route "
        f"{t_ref_stat:.2f} s -> {t_ref_stat / t_our_stat:.1f}x faster (target >= 5x)"
    )
    print(
        f"FID end to end from features:     gankit {t_our_e2e:.2f} s, pytorch-fid route "
        f"{t_ref_e2e:.2f} s -> {t_ref_e2e / t_our_e2e:.1f}x faster (target >= 3x)"
    )
    print(f"relative difference: statistics {rel:.2e}, end to end {rel_e2e:.2e} (target < 1e-6)")


if __name__ == "__main__":
    main()
