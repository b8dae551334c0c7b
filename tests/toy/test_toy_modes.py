"""PacGAN mode metrics on hand-built samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst

from gankit.data.toy import make_toy
from gankit.errors import GankitError
from gankit.metrics.divergences import toy_metrics
from gankit.metrics.modes import mode_counts, mode_metrics, reverse_kl_uniform

RING = make_toy("ring-8")


def at_modes(counts, centres, offset=(0.0, 0.0)):
    """``counts[j]`` samples exactly at centre j (+ offset)."""
    c = np.asarray(centres, dtype=np.float64)
    return np.concatenate([np.repeat(c[j : j + 1] + offset, k, 0) for j, k in enumerate(counts)])


def test_three_of_eight_modes_by_hand():
    counts = [5, 3, 2, 0, 0, 0, 0, 0]
    x = at_modes(counts, RING.modes)
    far = np.array([[0.0, 0.0], [0.5, 0.5]])  # 0.48+ from every mode: low quality
    m = mode_metrics(np.concatenate([x, far]), RING.modes, 0.01)
    q = np.array([0.5, 0.3, 0.2])
    assert m == {
        "modes_covered": 3.0,
        "n_modes": 8.0,
        "high_quality": 10 / 12,
        "reverse_kl": pytest.approx(float((q * np.log(q * 8)).sum())),
    }
    # worked out: 0.5 ln 4 + 0.3 ln 2.4 + 0.2 ln 1.6
    assert m["reverse_kl"] == pytest.approx(
        0.5 * math.log(4) + 0.3 * math.log(2.4) + 0.2 * math.log(1.6)
    )


def test_uniform_coverage_and_single_mode_extremes():
    assert mode_metrics(at_modes([4] * 8, RING.modes), RING.modes, 0.01)["reverse_kl"] == 0.0
    one = mode_metrics(at_modes([9, 0, 0, 0, 0, 0, 0, 0], RING.modes), RING.modes, 0.01)
    assert one["modes_covered"] == 1.0 and one["reverse_kl"] == pytest.approx(math.log(8))


def test_quality_radius_is_three_std_strict():
    c = np.zeros((1, 2))
    x = np.array([[0.0299, 0.0], [0.0, -0.0301], [0.03, 0.0]])
    assert mode_counts(x, c, 0.01).tolist() == [1]
    assert mode_counts(x, c, 0.01, n_std=4.0).tolist() == [3]


def test_no_high_quality_sample_gives_nan_reverse_kl():
    m = mode_metrics(np.full((5, 2), 10.0), RING.modes, 0.01)
    assert m["modes_covered"] == 0.0 and m["high_quality"] == 0.0
    assert math.isnan(m["reverse_kl"])


def test_true_ring_samples_cover_every_mode():
    x = RING.sample(2500, torch.Generator().manual_seed(0))
    m = mode_metrics(x, RING.modes, RING.mode_std)
    assert m["modes_covered"] == 8.0
    # P(chi_2 < 3) = 1 - exp(-4.5) = 0.9889
    assert m["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert m["reverse_kl"] < 0.01


def test_1d_modes():
    x = np.array([2.0, 2.1, 6.0, 4.0])[:, None]
    m = mode_metrics(x, [[2.0], [6.0]], 0.6)
    assert m["modes_covered"] == 2.0 and m["high_quality"] == 0.75
    assert m["reverse_kl"] == pytest.approx((2 / 3) * math.log(4 / 3) + (1 / 3) * math.log(2 / 3))


def test_refusals():
    with pytest.raises(GankitError, match="no modes"):
        mode_metrics(np.zeros((3, 2)), None, 0.1)
    with pytest.raises(GankitError, match="dimensions"):
        mode_metrics(np.zeros((3, 3)), RING.modes, 0.1)
    with pytest.raises(GankitError, match="std"):
        mode_metrics(np.zeros((3, 2)), RING.modes, 0.0)
    with pytest.raises(GankitError, match="non-finite"):
        mode_metrics(np.array([[np.nan, 0.0]]), RING.modes, 0.1)
    with pytest.raises(GankitError, match="all counts are zero"):
        reverse_kl_uniform([0, 0])


def test_toy_metrics_reports_modes_only_where_they_exist():
    x = np.zeros((100, 2))
    assert "modes_covered" in toy_metrics(RING, x)
    assert "modes_covered" not in toy_metrics(make_toy("spiral"), x)
    assert "modes_covered" not in toy_metrics(make_toy("gaussian"), np.zeros((100, 1)) + 4)


@settings(max_examples=50, deadline=None)
@given(
    hst.lists(hst.integers(0, 30), min_size=8, max_size=8).filter(lambda c: sum(c) > 0),
    hst.randoms(),
)
def test_property_counts_permutation_and_bounds(counts, rnd):
    x = at_modes(counts, RING.modes, offset=(0.004, -0.003))
    perm = x[rnd.sample(range(len(x)), len(x))]
    a, b = mode_metrics(x, RING.modes, 0.01), mode_metrics(perm, RING.modes, 0.01)
    assert a == b
    assert mode_counts(x, RING.modes, 0.01).tolist() == counts
    assert a["modes_covered"] == sum(c > 0 for c in counts)
    assert 0.0 <= a["reverse_kl"] <= math.log(8) + 1e-12
