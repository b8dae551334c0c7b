"""The toy distributions: registry, seeded sampling, exact moments, densities integrating to 1."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st
import torch

from gankit.data.toy import GaussianMixture2D, make_toy, register_toy, toy_names
from gankit.errors import GankitError

ONE_D = ["gaussian", "mixture-1d", "bimodal", "uniform"]
TWO_D = ["ring-8", "grid-25", "spiral", "swiss-roll"]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_registry_lists_all_worlds_and_refuses_unknown():
    assert set(ONE_D + TWO_D) <= set(toy_names())
    with pytest.raises(GankitError, match="known: .*ring-8"):
        make_toy("ring-9000")
    with pytest.raises(GankitError, match="already registered"):
        register_toy("ring-8", lambda: None)


@pytest.mark.parametrize("name", ONE_D + TWO_D)
def test_sampling_is_seeded_and_shaped(name):
    d = make_toy(name)
    a, b = d.sample(500, gen(3)), d.sample(500, gen(3))
    assert a.shape == (500, d.dim) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, d.sample(500, gen(4)))


@pytest.mark.parametrize("name", ONE_D)
def test_1d_cdf_matches_empirical_and_mean_std(name):
    d = make_toy(name)
    x = d.sample(100_000, gen(1)).double().numpy()[:, 0]
    ks = st.kstest(x, lambda t: d.cdf(torch.from_numpy(np.asarray(t))).numpy()).statistic
    assert ks < 0.01  # the 1e-3 level critical value is ~0.0062
    mean, std = d.mean_std()
    assert x.mean() == pytest.approx(mean, abs=4 * std / math.sqrt(x.size))
    assert x.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("name", ONE_D)
def test_1d_density_integrates_to_one_and_is_cdf_derivative(name):
    d = make_toy(name)
    lo, hi = d.support()
    t = torch.linspace(lo, hi, 200_001, dtype=torch.float64)
    p = d.log_prob(t).exp()
    assert torch.trapezoid(p, t).item() == pytest.approx(1.0, abs=2e-3)
    # dF/dx == p away from the uniform's jumps
    mid = torch.tensor([d.mean_std()[0] + 0.3], dtype=torch.float64)
    h = 1e-5
    deriv = (d.cdf(mid + h) - d.cdf(mid - h)) / (2 * h)
    assert deriv.item() == pytest.approx(d.log_prob(mid).exp().item(), rel=1e-6)


def test_pacgan_parameters_of_ring_and_grid():
    ring = make_toy("ring-8")
    assert ring.modes.shape == (8, 2) and ring.mode_std == 0.01
    assert torch.allclose(ring.modes.double().norm(dim=1), torch.ones(8, dtype=torch.float64))
    assert ring.modes[0].tolist() == [1.0, 0.0]
    grid = make_toy("grid-25")
    assert grid.mode_std == 0.05
    assert sorted({round(v, 6) for v in grid.modes.flatten().tolist()}) == [-4, -2, 0, 2, 4]
    assert len({tuple(r) for r in grid.modes.tolist()}) == 25


def test_curves_have_no_modes_and_dense_centres():
    for name in ("spiral", "swiss-roll"):
        d = make_toy(name)
        assert d.modes is None and d.mode_std is None
    sw = make_toy("swiss-roll").centres_tensor
    assert (sw[1:] - sw[:-1]).norm(dim=1).max() < make_toy("swiss-roll").std
    sp = make_toy("spiral")
    arm = sp.centres_tensor[: sp.centres_tensor.shape[0] // 2]
    gaps = (arm[1:] - arm[:-1]).norm(dim=1)
    assert gaps[20:].max() < sp.std and gaps.max() < 2 * sp.std  # wider only near the centre


@pytest.mark.parametrize("name", TWO_D)
def test_2d_sample_mean_and_cov_match_exact(name):
    d = make_toy(name)
    x = d.sample(200_000, gen(2)).double()
    mean, cov = d.mean_cov()
    scale = cov.diagonal().sqrt()
    assert torch.all((x.mean(0) - mean).abs() < 5 * scale / math.sqrt(x.shape[0]))
    assert torch.allclose(torch.cov(x.T, correction=0), cov, rtol=0.02, atol=0.02)


def test_2d_mean_cov_by_hand():
    d = GaussianMixture2D(((0.0, 0.0), (2.0, 0.0)), 0.5)
    mean, cov = d.mean_cov()
    assert mean.tolist() == [1.0, 0.0]
    assert cov.tolist() == [[1.25, 0.0], [0.0, 0.25]]


@pytest.mark.parametrize("name", TWO_D)
def test_2d_log_prob_integrates_to_one_on_a_grid(name):
    d = make_toy(name)
    (x0, x1), (y0, y1) = d.bounds(n_std=6.0)
    h = d.std / 3.0  # fine against the narrowest feature
    xs = torch.arange(x0, x1 + h, h, dtype=torch.float64)
    ys = torch.arange(y0, y1 + h, h, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    total = d.log_prob(pts).exp().sum().item() * h * h
    assert total == pytest.approx(1.0, abs=1e-3)


def test_2d_log_prob_by_hand_and_against_scipy():
    d = GaussianMixture2D(((0.0, 0.0), (3.0, 1.0)), 0.7)
    pts = torch.tensor([[0.1, -0.2], [2.0, 2.0], [50.0, -40.0]], dtype=torch.float64)
    near = pts[:2].numpy()
    ref = np.log(
        0.5 * st.multivariate_normal([0, 0], 0.49 * np.eye(2)).pdf(near)
        + 0.5 * st.multivariate_normal([3, 1], 0.49 * np.eye(2)).pdf(near)
    )
    ours = d.log_prob(pts).numpy()
    assert np.allclose(ours[:2], ref[:2], rtol=1e-12)
    # far away scipy's pdf underflows to 0; ours stays finite and exact
    far = -0.5 * ((47.0**2 + 41.0**2) / 0.49) - math.log(2 * math.pi * 0.49) - math.log(2)
    assert ours[2] == pytest.approx(far, rel=1e-12)


def test_ring_log_prob_at_a_mode_by_hand():
    d = make_toy("ring-8")  # neighbours are 0.765 = 76 std away: only one component counts
    lp = d.log_prob(torch.tensor([[1.0, 0.0]])).item()
    assert lp == pytest.approx(-math.log(8) - math.log(2 * math.pi * 1e-4), rel=1e-12)


def test_toy_refusals():
    with pytest.raises(GankitError, match="std"):
        make_toy("ring-8", std=0.0)
    with pytest.raises(GankitError, match="n_modes"):
        make_toy("ring-8", n_modes=0)
    with pytest.raises(GankitError, match="centres"):
        GaussianMixture2D(centres=(1.0, 2.0))
    with pytest.raises(GankitError, match="shape"):
        make_toy("ring-8").log_prob(torch.zeros(3, 3))
    with pytest.raises(GankitError, match="CDF"):
        make_toy("grid-25").cdf(torch.zeros(3, 2))
    with pytest.raises(GankitError, match="data.params.radius"):
        make_toy("grid-25", radius=2.0)
