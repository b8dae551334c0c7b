"""1-D toy divergences against closed forms, scipy, hand-worked values and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats as st
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst
from hypothesis.extra.numpy import arrays

from gankit.data.toy import Gaussian1D, ToyDistribution, make_toy
from gankit.errors import GankitError
from gankit.metrics.divergences import (
    bin_probabilities,
    binned_divergences,
    js_divergence,
    js_divergence_binned,
    kl_divergence,
    ks_distance,
    moments,
    toy_cdf,
    toy_metrics,
    wasserstein1_1d,
)


def normal_cdf(mean=0.0, std=1.0):
    return lambda x: st.norm(mean, std).cdf(x)


def draw(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n)


# ----------------------------------------------------------------------------- KS
@pytest.mark.parametrize("shift", [0.0, 0.3, -1.0])
def test_ks_equals_scipy_kstest(shift):
    x = draw(3000, 1) + shift
    ours = ks_distance(x, normal_cdf())
    ref = st.kstest(x, "norm").statistic
    assert ours == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_ks_with_ties_equals_scipy():
    x = np.round(draw(500, 2), 1)  # many ties
    assert ks_distance(x, normal_cdf()) == pytest.approx(st.kstest(x, "norm").statistic, rel=1e-12)


def test_ks_hand_value():
    # two samples at 0 and 1 under U(0, 1): F_n jumps to 1/2 at 0 and 1 at 1; sup |F_n - F| = 1/2
    cdf = lambda x: np.clip(x, 0, 1)  # noqa: E731
    assert ks_distance([0.0, 1.0], cdf) == pytest.approx(0.5)
    # samples at 0.25, 0.75: the gaps are 0.25 everywhere
    assert ks_distance([0.25, 0.75], cdf) == pytest.approx(0.25)


# ----------------------------------------------------------------------------- W1
@pytest.mark.parametrize("delta", [0.0, 0.5, -2.0])
def test_w1_shifted_gaussian_is_shift(delta):
    x = draw(100_000, 3)
    w = wasserstein1_1d(x, normal_cdf(delta), delta - 10 - abs(delta), 10 + abs(delta))
    assert w == pytest.approx(abs(delta), abs=0.012)


def test_w1_of_exact_quantile_grid_is_tiny():
    n = 10_000
    x = st.norm.ppf((np.arange(n) + 0.5) / n)
    w = wasserstein1_1d(x, normal_cdf(), -10, 10)
    assert w < 3.0 / n
    # and a random sample of the same size is far worse: the quantile grid is not a fluke
    assert wasserstein1_1d(draw(n, 4), normal_cdf(), -10, 10) > 10 * w


def test_w1_against_scipy_quad_on_few_samples():
    x = np.array([-1.3, -0.2, 0.1, 0.9, 2.5])
    cdf = normal_cdf(0.3, 0.8)

    def gap(t):
        return abs((x <= t).mean() - cdf(t))

    pts = np.sort(x)
    ref = scipy.integrate.quad(gap, -10, pts[0], limit=200)[0]
    ref += sum(scipy.integrate.quad(gap, a, b, limit=200)[0] for a, b in zip(pts[:-1], pts[1:]))
    ref += scipy.integrate.quad(gap, pts[-1], 10, limit=200)[0]
    assert wasserstein1_1d(x, cdf, -10, 10) == pytest.approx(ref, rel=1e-5)


def test_w1_hand_value_point_against_uniform():
    # one sample at 0 against U(0, 1): int_0^1 (1 - x) dx = 1/2; at 0.5: 2 * int_0^.5 x = 1/4
    cdf = lambda x: np.clip(x, 0, 1)  # noqa: E731
    assert wasserstein1_1d([0.0, 0.0], cdf, -1, 2) == pytest.approx(0.5, rel=1e-6)
    assert wasserstein1_1d([0.5, 0.5], cdf, -1, 2) == pytest.approx(0.25, rel=1e-6)


def test_w1_matches_scipy_wasserstein_against_big_quantile_sample():
    x = draw(2000, 5) * 0.7 + 1.0
    m = 400_000
    q = st.norm(0, 1).ppf((np.arange(m) + 0.5) / m)
    ref = st.wasserstein_distance(x, q)
    assert wasserstein1_1d(x, normal_cdf(), -10, 10) == pytest.approx(ref, rel=2e-3)


# ----------------------------------------------------------------------------- moments
def test_moments_match_scipy():
    x = np.random.default_rng(6).gamma(2.0, size=5000)
    m = moments(x)
    assert m["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert m["std"] == pytest.approx(x.std(ddof=0), rel=1e-12)
    assert m["skew"] == pytest.approx(st.skew(x), rel=1e-10)
    assert m["kurtosis"] == pytest.approx(st.kurtosis(x, fisher=True), rel=1e-10)


def test_moments_hand_values():
    m = moments([1.0, 2.0, 3.0, 4.0])  # m2 = 1.25, m3 = 0, m4 = (2*1.5^4 + 2*.5^4)/4 = 2.5625
    assert m["mean"] == 2.5 and m["std"] == pytest.approx(math.sqrt(1.25))
    assert m["skew"] == pytest.approx(0.0, abs=1e-15)
    assert m["kurtosis"] == pytest.approx(2.5625 / 1.5625 - 3.0)


def test_excess_kurtosis_of_uniform_and_gaussian():
    d = make_toy("uniform")
    m = moments(d.sample(200_000, torch.Generator().manual_seed(0)))
    assert m["kurtosis"] == pytest.approx(-1.2, abs=0.02)
    assert moments(draw(200_000, 7))["kurtosis"] == pytest.approx(0.0, abs=0.05)


def test_moments_of_constant_are_nan_shape_stats():
    m = moments(np.full(10, 3.0))
    assert m["mean"] == 3.0 and m["std"] == 0.0
    assert math.isnan(m["skew"]) and math.isnan(m["kurtosis"])


# ----------------------------------------------------------------------------- binned JSD / KL
def test_discrete_kl_js_hand_values():
    p, q = [0.5, 0.5], [0.25, 0.75]
    assert kl_divergence(p, q) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    assert kl_divergence([1, 0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert kl_divergence([0.5, 0.5], [1, 0]) == math.inf
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(math.log(2))
    assert js_divergence(p, p) == 0.0


def test_bin_probabilities_overflow_bins():
    cdf = normal_cdf()
    p, counts = bin_probabilities([-100.0, -1.0, 0.5, 7.0], cdf, -2.0, 2.0, bins=4)
    assert p.shape == (6,) and counts.tolist() == [1, 0, 1, 1, 0, 1]  # [-1, 0) holds -1
    assert p[0] == pytest.approx(st.norm.cdf(-2)) and p[-1] == pytest.approx(st.norm.sf(2))
    assert p.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("delta,scale", [(0.5, 1.0), (1.0, 1.0), (0.0, 1.5)])
def test_binned_kl_matches_closed_form_gaussian_kl(delta, scale):
    # model N(delta, scale^2) samples against data N(0, 1)
    x = delta + scale * draw(200_000, 8)
    d = binned_divergences(x, normal_cdf(), -6, 6)
    kl_dm = math.log(scale) + (1 + delta**2) / (2 * scale**2) - 0.5  # KL(N(0,1) || N(d, s^2))
    kl_md = -math.log(scale) + (scale**2 + delta**2) / 2 - 0.5  # KL(N(d, s^2) || N(0,1))
    assert d["kl_data_model"] == pytest.approx(kl_dm, rel=0.05, abs=2e-3)
    assert d["kl_model_data"] == pytest.approx(kl_md, rel=0.05, abs=2e-3)
    assert 0 < d["jsd"] < math.log(2)


def test_binned_jsd_closed_form_separated_and_identical():
    # samples all far right of the data: histogram mass only in the overflow bin
    far = np.full(100, 50.0)
    # (the data's overflow bin holds P(X >= 6) ~ 1e-9, so JSD falls short of log 2 by ~1e-8)
    assert js_divergence_binned(far, normal_cdf(), -6, 6) == pytest.approx(math.log(2), abs=1e-7)
    # a quantile grid reproduces the bin probabilities up to counts being integers: only the far
    # tail bins (mass < 1/n each, ~2e-5 in all, left empty) contribute, at most ~ their mass
    x = st.norm.ppf((np.arange(100_000) + 0.5) / 100_000)
    assert js_divergence_binned(x, normal_cdf(), -6, 6) < 3e-5
    assert js_divergence_binned(draw(100_000, 10), normal_cdf(), -6, 6) > 3e-5


def test_kl_model_data_is_infinite_off_the_uniform_support():
    d = make_toy("uniform")
    x = np.concatenate([d.sample(1000, torch.Generator().manual_seed(0)).numpy()[:, 0], [-1.0]])
    out = toy_metrics(d, x[:, None])
    assert out["kl_model_data"] == math.inf
    assert math.isfinite(out["kl_data_model"])


# ----------------------------------------------------------------------------- toy_metrics
ONE_D = ["gaussian", "mixture-1d", "bimodal", "uniform"]


@pytest.mark.parametrize("name", ONE_D)
def test_toy_metrics_true_samples_are_near_zero(name):
    dist = make_toy(name)
    x = dist.sample(100_000, torch.Generator().manual_seed(1))
    m = toy_metrics(dist, x)
    assert all(isinstance(v, float) for v in m.values())
    assert m["ks"] < 0.01 and m["w1"] < 0.02 and m["jsd"] < 1e-3
    assert m["kl_data_model"] < 3e-3 and m["kl_model_data"] < 3e-3
    mean, std = dist.mean_std()
    assert m["mean"] == pytest.approx(mean, abs=0.03) and m["std"] == pytest.approx(std, rel=0.01)
    assert ("modes_covered" in m) == (dist.modes is not None)


def test_toy_metrics_gaussian_shift_values():
    dist = Gaussian1D()  # N(4, 1.25^2)
    x = torch.from_numpy(4.5 + 1.25 * draw(100_000, 9))[:, None]
    m = toy_metrics(dist, x)
    assert m["w1"] == pytest.approx(0.5, abs=0.01)
    assert m["kl_data_model"] == pytest.approx(0.5**2 / (2 * 1.25**2), rel=0.05)
    assert m["ks"] == pytest.approx(st.kstest(x.numpy()[:, 0], st.norm(4, 1.25).cdf).statistic)


def test_toy_metrics_mode_collapse_on_bimodal():
    dist = make_toy("bimodal")  # modes at 2 and 6, std 0.6
    x = np.random.default_rng(0).normal(2.0, 0.6, size=(5000, 1))
    m = toy_metrics(dist, x)
    assert m["modes_covered"] == 1.0 and m["n_modes"] == 2.0
    assert m["reverse_kl"] == pytest.approx(math.log(2))
    assert m["w1"] == pytest.approx(2.0, abs=0.05)  # half the mass moves by 4


def test_toy_cdf_refuses_2d():
    class Flat2D(ToyDistribution):
        name, dim = "flat-2d", 2

    with pytest.raises(GankitError, match="CDF"):
        toy_cdf(Flat2D())


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.array([[1.0]]), "at least 2"),
        (np.array([[1.0], [np.nan]]), "non-finite"),
        (np.zeros((10, 2)), "shape"),
        (np.zeros((2, 3, 1)), "shape"),
    ],
)
def test_toy_metrics_refusals(bad, match):
    with pytest.raises(GankitError, match=match):
        toy_metrics(Gaussian1D(), bad)


def test_ks_refuses_2d_data():
    with pytest.raises(GankitError, match="1-D"):
        ks_distance(np.zeros((10, 2)), normal_cdf())


# ----------------------------------------------------------------------------- properties
finite = hst.floats(-50, 50, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, hst.integers(2, 60), elements=finite), hst.randoms())
def test_properties_ks_w1_jsd(x, rnd):
    cdf = normal_cdf(0.0, 2.0)
    perm = np.array(rnd.sample(list(x), len(x)))
    ks = ks_distance(x, cdf)
    assert 0.0 <= ks <= 1.0
    assert ks == pytest.approx(ks_distance(perm, cdf), abs=1e-15)
    w = wasserstein1_1d(x, cdf, -60, 60)
    assert w >= 0 and w == pytest.approx(wasserstein1_1d(perm, cdf, -60, 60), rel=1e-12, abs=1e-12)
    # W1 >= |mean difference| (Jensen), the true mean is 0
    assert w >= abs(x.mean()) - 1e-3
    d = binned_divergences(x, cdf, -12, 12)
    assert 0.0 <= d["jsd"] <= math.log(2) + 1e-12
    assert d["jsd"] == pytest.approx(binned_divergences(perm, cdf, -12, 12)["jsd"], abs=1e-12)
    assert d["kl_data_model"] >= 0 and d["kl_model_data"] >= 0
    # JSD <= KL / 2 in each direction (convexity: KL(p || (p+q)/2) <= KL(p||q)/2)
    p, c = bin_probabilities(x, cdf, -12, 12)
    q = c / c.sum()
    assert d["jsd"] <= 0.5 * (0.5 * kl_divergence(p, q) + 0.5 * kl_divergence(q, p)) + 1e-12


@settings(max_examples=40, deadline=None)
@given(hst.lists(hst.floats(0, 10), min_size=3, max_size=8))
def test_property_js_symmetric_bounded(weights):
    w = np.array(weights) + 1e-3
    p = w / w.sum()
    q = p[::-1].copy()
    a, b = js_divergence(p, q), js_divergence(q, p)
    assert a == pytest.approx(b, abs=1e-12)
    assert 0.0 <= a <= math.log(2)
