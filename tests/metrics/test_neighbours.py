"""PRDC, 1-NN accuracy and the memorisation check against brute-force references."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gankit.errors import GankitError
from gankit.metrics import nearest as nearest_mod
from gankit.metrics import nearest_neighbours, one_nn_accuracy, precision_recall_density_coverage


def reference_prdc(real, fake, k):
    """Brute force from Naeem et al. 2020's definitions."""
    rr, ff, rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_real = np.sort(rr, axis=1)[:, k]  # column 0 is the point itself
    r_fake = np.sort(ff, axis=1)[:, k]
    precision = np.mean([(rf[:, j] < r_real).any() for j in range(len(fake))])
    recall = np.mean([(rf[i, :] < r_fake).any() for i in range(len(real))])
    density = np.sum(rf < r_real[:, None]) / (k * len(fake))
    coverage = np.mean(rf.min(axis=1) < r_real)
    return dict(precision=precision, recall=recall, density=density, coverage=coverage)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_matches_brute_force(k, monkeypatch):
    monkeypatch.setattr(nearest_mod, "CHUNK", 17)  # exercise the chunking
    rng = np.random.default_rng(k)
    real = rng.standard_normal((120, 6))
    fake = rng.standard_normal((90, 6)) * 1.2 + 0.3
    ours = precision_recall_density_coverage(real, fake, k=k)
    ref = reference_prdc(real, fake, k)
    for key in ref:
        assert ours[key] == pytest.approx(ref[key], abs=1e-12), key


def test_prdc_identical_sets_and_separated_sets():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 4))
    out = precision_recall_density_coverage(x, x.copy())
    ones = dict(precision=1.0, recall=1.0, coverage=1.0, density=1.0)
    assert out == pytest.approx(ones, abs=0.01)
    # density's ties (a copy of the k-th neighbour sits exactly on the ball's edge) are decided
    # by float64 round-off, so it is 1 only up to a few ties in 200 * k
    far = precision_recall_density_coverage(x, x + 100.0)
    assert far == pytest.approx(dict(precision=0.0, recall=0.0, density=0.0, coverage=0.0))


def test_prdc_refusals():
    with pytest.raises(GankitError, match="more than 5 fake samples"):
        precision_recall_density_coverage(np.zeros((10, 2)), np.zeros((5, 2)))
    with pytest.raises(GankitError, match="k must be >= 1"):
        precision_recall_density_coverage(np.zeros((10, 2)), np.zeros((10, 2)), k=0)


def reference_one_nn(real, fake):
    x = np.concatenate([real, fake])
    lab = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    d = cdist(x, x)
    np.fill_diagonal(d, np.inf)
    return np.mean(lab[d.argmin(1)] == lab)


def test_one_nn_matches_brute_force():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((70, 3)), rng.standard_normal((50, 3)) + 0.4
    assert one_nn_accuracy(real, fake) == pytest.approx(reference_one_nn(real, fake))


def test_one_nn_invariants():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2000, 2)), rng.standard_normal((2000, 2))
    assert one_nn_accuracy(a, b) == pytest.approx(0.5, abs=0.03)
    assert one_nn_accuracy(a, b + 50) == 1.0
    assert one_nn_accuracy(a[:300], a[:300] + 1e-9) == 0.0  # copies: each point's NN is its twin
    with pytest.raises(GankitError, match="at least 2 real and 2 fake"):
        one_nn_accuracy(a[:1], b)


def test_nearest_neighbours_detects_copies():
    rng = np.random.default_rng(3)
    train = rng.standard_normal((500, 5))
    held = rng.standard_normal((300, 5))
    copies = train[:200] + 1e-3 * rng.standard_normal((200, 5))
    fresh = rng.standard_normal((200, 5))
    out = nearest_neighbours(copies, train, k=3, held_out=held, n_pairs=4)
    assert out["distances"].shape == (200, 3) and out["indices"].shape == (200, 3)
    assert out["ratio"] < 0.05 and out["fraction_closer"] > 0.9
    assert (out["indices"][:, 0] == np.arange(200)).all()
    assert len(out["pairs"]) == 4
    assert out["pairs"][0]["distance"] == pytest.approx(out["distances"][:, 0].min())
    honest = nearest_neighbours(fresh, train, held_out=held)
    assert 0.7 < honest["ratio"] < 1.4 and honest["fraction_closer"] < 0.2
    d = cdist(fresh, train)
    np.testing.assert_allclose(honest["distances"][:, 0], d.min(1), rtol=1e-9)
    with pytest.raises(GankitError, match="held_out has 4 feature dimensions"):
        nearest_neighbours(fresh, train, held_out=held[:, :4])
