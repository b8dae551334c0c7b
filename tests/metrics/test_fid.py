"""Fréchet distance / FID against the pytorch-fid route (numpy cov + scipy sqrtm), by hand, and
by invariants."""

import numpy as np
import pytest
import scipy.linalg
import torch

from gankit.errors import GankitError
from gankit.metrics import GaussianStats, StreamingFID, fid, frechet_distance, gaussian_stats


def reference_frechet(mu1, c1, mu2, c2):
    """The pytorch-fid formula, written from its definition (sqrtm of the product)."""
    covmean = scipy.linalg.sqrtm(c1 @ c2)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(c1) + np.trace(c2) - 2 * np.trace(covmean))


def random_spd(rng, d, scale=1.0):
    a = rng.standard_normal((d, d))
    return scale * (a @ a.T / d + 0.1 * np.eye(d))


@pytest.mark.parametrize("d", [1, 2, 16, 64])
def test_frechet_matches_sqrtm_route(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    c1, c2 = random_spd(rng, d), random_spd(rng, d, 2.0)
    ours = frechet_distance(mu1, c1, mu2, c2)
    ref = reference_frechet(mu1, c1, mu2, c2)
    assert ours == pytest.approx(ref, rel=1e-6)


def test_frechet_by_hand():
    # 1-D: (m1 - m2)^2 + s1^2 + s2^2 - 2 s1 s2 = (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)
    # diagonal covariances: sum over dimensions
    mu1, mu2 = np.zeros(2), np.array([1.0, 0.0])
    c1, c2 = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])
    assert frechet_distance(mu1, c1, mu2, c2) == pytest.approx(1.0 + 1.0 + 1.0)


def test_frechet_identical_is_zero_and_symmetric():
    rng = np.random.default_rng(0)
    mu, c = rng.standard_normal(8), random_spd(rng, 8)
    assert frechet_distance(mu, c, mu, c) == pytest.approx(0.0, abs=1e-9)
    mu2, c2 = rng.standard_normal(8), random_spd(rng, 8)
    assert frechet_distance(mu, c, mu2, c2) == pytest.approx(
        frechet_distance(mu2, c2, mu, c), rel=1e-9
    )


def test_frechet_singular_covariances_are_stable():
    rng = np.random.default_rng(1)
    d = 32
    x = rng.standard_normal((10, d))  # rank 9 covariance
    y = rng.standard_normal((12, d)) + 0.5
    mu1, c1 = x.mean(0), np.cov(x, rowvar=False)
    mu2, c2 = y.mean(0), np.cov(y, rowvar=False)
    ours = frechet_distance(mu1, c1, mu2, c2)
    assert np.isfinite(ours) and ours > 0
    # exact singular case worked out by hand: rank-1 covariances along orthogonal axes
    e1, e2 = np.eye(3)[0], np.eye(3)[1]
    c1, c2 = np.outer(e1, e1) * 4.0, np.outer(e2, e2) * 9.0
    # C1 C2 = 0, so the distance is tr(C1) + tr(C2)
    assert frechet_distance(np.zeros(3), c1, np.zeros(3), c2) == pytest.approx(13.0)
    # same rank-1 covariance: distance 0
    assert frechet_distance(np.zeros(3), c1, np.zeros(3), c1) == pytest.approx(0.0, abs=1e-12)


def test_frechet_refusals():
    with pytest.raises(GankitError, match="mu1 has 2 dimensions but mu2 has 3"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(GankitError, match="cov1"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(GankitError, match="non-finite"):
        frechet_distance(np.array([np.nan, 0.0]), np.eye(2), np.zeros(2), np.eye(2))


def test_fid_matches_reference_and_accepts_torch():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((300, 20))
    b = rng.standard_normal((250, 20)) * 1.3 + 0.2
    ref = reference_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert fid(a, b) == pytest.approx(ref, rel=1e-6)
    assert fid(torch.from_numpy(a).float(), torch.from_numpy(b).float()) == pytest.approx(
        ref, rel=1e-4
    )


def test_fid_invariants():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((200, 10))
    b = rng.standard_normal((200, 10)) + 1.0
    assert fid(a, a) == pytest.approx(0.0, abs=1e-9)
    perm = rng.permutation(200)
    assert fid(a[perm], b) == pytest.approx(fid(a, b), rel=1e-10)
    # a shift of the mean by v adds |v|^2
    v = np.arange(10) / 10.0
    assert fid(a, a + v) == pytest.approx(v @ v, rel=1e-9)


def test_fid_refuses_fewer_samples_than_dims():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((50, 64)), rng.standard_normal((500, 64))
    with pytest.raises(GankitError, match="at least 65 are needed.*KID"):
        fid(a, b)
    assert np.isfinite(fid(a, b, require_full_rank=False))


def test_fid_refuses_bad_features():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((100, 4))
    with pytest.raises(GankitError, match="4 feature dimensions but features_b has 5"):
        fid(a, rng.standard_normal((100, 5)))
    bad = a.copy()
    bad[3, 1] = np.nan
    with pytest.raises(GankitError, match="non-finite"):
        fid(a, bad)
    with pytest.raises(GankitError, match="2-D"):
        fid(a.ravel(), a)


def test_streaming_stats_equal_batch_stats_any_batching():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1000, 12)) * 3 + 100.0  # large mean: the centred merge is exact
    mu, cov = gaussian_stats(x)
    for sizes in ([1000], [1, 999], [7] * 142 + [6], [500, 250, 250]):
        s, start = GaussianStats(), 0
        for n in sizes:
            s.update(x[start : start + n])
            start += n
        np.testing.assert_allclose(s.mean, mu, rtol=1e-12)
        np.testing.assert_allclose(s.cov, cov, rtol=1e-9, atol=1e-12)
    a, b = GaussianStats.from_features(x[:300]), GaussianStats.from_features(x[300:])
    np.testing.assert_allclose(a.merge(b).cov, cov, rtol=1e-9)
    np.testing.assert_allclose(np.cov(x, rowvar=False), cov, rtol=1e-9)  # N - 1 convention
    s2 = GaussianStats.from_state_dict(a.state_dict())
    np.testing.assert_allclose(s2.cov, a.cov)


def test_streaming_fid_equals_fid():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((400, 8))
    b = rng.standard_normal((300, 8)) + 0.3
    m = StreamingFID()
    for chunk in np.array_split(a, 7):
        m.update(torch.from_numpy(chunk), real=True)
    for chunk in np.array_split(b, 3):
        m.update(chunk, real=False)
    assert m.compute() == pytest.approx(fid(a, b), rel=1e-9)
    m.reset()
    with pytest.raises(GankitError, match="no real samples"):
        m.compute()
    m.update(a[:5], real=True)
    with pytest.raises(GankitError, match="9 are needed"):
        m.update(b[:5], real=False) or m.compute()
    with pytest.raises(GankitError, match="dimensions"):
        m.update(np.zeros((3, 9)), real=True)


def test_streaming_fid_with_an_extractor_takes_images():
    from gankit.data.images import load_digits_images
    from gankit.metrics.features import extract_features

    x = load_digits_images()
    m = StreamingFID("digits")
    for chunk in np.array_split(x[:900], 4):
        m.update(chunk, real=True)
    for chunk in np.array_split(x[900:], 3):
        m.update(chunk, real=False)
    fa, _ = extract_features(x[:900], "digits")
    fb, _ = extract_features(x[900:], "digits")
    assert m.compute() == pytest.approx(fid(fa, fb), rel=1e-5)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:

    @settings(max_examples=30, deadline=None)
    @given(
        st.integers(2, 40),
        st.integers(1, 6),
        st.integers(0, 2**31 - 1),
        st.lists(st.integers(1, 9), min_size=1, max_size=6),
    )
    def test_gaussian_stats_independent_of_batching(n, d, seed, cuts):
        x = np.random.default_rng(seed).standard_normal((n, d)) * 5 + 3
        s, start = GaussianStats(), 0
        for c in cuts + [n]:
            if start >= n:
                break
            s.update(x[start : start + c])
            start += c
        if start < n:
            s.update(x[start:])
        np.testing.assert_allclose(
            s.cov, np.cov(x, rowvar=False).reshape(d, d), rtol=1e-9, atol=1e-9
        )
        assert frechet_distance(s.mean, s.cov, s.mean, s.cov) == pytest.approx(0, abs=1e-8)
