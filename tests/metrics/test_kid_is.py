"""KID and Inception Score against formula-level reference implementations, hand values and
invariants."""

import numpy as np
import pytest
import torch

from gankit.errors import GankitError
from gankit.metrics import inception_score, kid
from gankit.metrics.kid import rms_scale


def reference_mmd2_unbiased(x, y, degree=3, gamma=None, coef0=1.0):
    """Explicit double loops over pairs, from the formula of Bińkowski et al. 2018."""
    m, d = x.shape
    gamma = 1.0 / d if gamma is None else gamma

    def k(a, b):
        return (gamma * float(a @ b) + coef0) ** degree

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_full_subset_matches_double_loop():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((30, 5)), rng.standard_normal((30, 5)) + 0.5
    mean, std = kid(a, b, subsets=3, subset_size=30)
    assert mean == pytest.approx(reference_mmd2_unbiased(a, b), rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-12)  # every subset is the full set


def test_kid_subsets_match_reference_with_same_draws():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((40, 4)), rng.standard_normal((50, 4)) * 1.5
    mean, std = kid(a, b, subsets=5, subset_size=10, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    vals = []
    for _ in range(5):
        ia = torch.randperm(40, generator=g)[:10].numpy()
        ib = torch.randperm(50, generator=g)[:10].numpy()
        vals.append(reference_mmd2_unbiased(a[ia], b[ib]))
    assert mean == pytest.approx(np.mean(vals), rel=1e-9)
    assert std == pytest.approx(np.std(vals), rel=1e-7)


def test_kid_by_hand_linear_kernel():
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    # k = x.y: XX off-diagonal 0, YY off-diagonal 2+2 -> 4/2 = 2; XY sum 3 -> 2*3/4 = 1.5
    mean, _ = kid(x, y, subsets=1, subset_size=2, degree=1, gamma=1.0, coef0=0.0)
    assert mean == pytest.approx(0.5)


def test_kid_unbiased_on_a_known_case():
    # With the linear kernel, E[MMD^2_u] = |mu_a - mu_b|^2 exactly, at any subset size.
    rng = np.random.default_rng(2)
    shift = np.array([0.6, 0.0, -0.3])
    a = rng.standard_normal((4000, 3))
    b = rng.standard_normal((4000, 3)) + shift
    mean, std = kid(a, b, subsets=400, subset_size=20, degree=1, gamma=1.0, coef0=0.0, generator=0)
    assert mean == pytest.approx(shift @ shift, abs=4 * std / np.sqrt(400) + 0.01)
    # Same distribution: KID (cubic kernel) is about 0, not positive-biased like FID.
    mean0, std0 = kid(a, rng.standard_normal((4000, 3)), subsets=200, subset_size=50)
    assert abs(mean0) < 4 * std0 / np.sqrt(200) + 1e-3


def test_kid_is_reproducible_and_seeded():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((60, 4)), rng.standard_normal((60, 4))
    state = torch.random.get_rng_state()
    r1 = kid(a, b, subsets=10, subset_size=20, generator=5)
    r2 = kid(a, b, subsets=10, subset_size=20, generator=5)
    assert r1 == r2
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG untouched
    assert kid(a, b, subsets=10, subset_size=20, generator=6) != r1


def test_kid_refusals():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((60, 4)), rng.standard_normal((40, 4))
    with pytest.raises(GankitError, match="subset_size 1000 is larger than features_a's 60"):
        kid(a, b)
    with pytest.raises(GankitError, match="subset_size <= 40"):
        kid(a, b, subset_size=50)
    with pytest.raises(GankitError, match="subsets must be >= 1"):
        kid(a, b, subsets=0, subset_size=10)
    with pytest.raises(GankitError, match="different feature spaces"):
        kid(a, rng.standard_normal((40, 5)), subset_size=10)


def test_kid_scale_divides_both_sides_before_the_kernel():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((30, 4)) * 7.0, rng.standard_normal((30, 4)) * 7.0 + 2.0
    scaled = kid(a, b, subsets=4, subset_size=20, generator=1, scale=7.0)
    assert scaled == pytest.approx(kid(a / 7.0, b / 7.0, subsets=4, subset_size=20, generator=1))
    assert scaled[0] == pytest.approx(
        np.mean(
            [
                reference_mmd2_unbiased(a[ia] / 7.0, b[ib] / 7.0)
                for ia, ib in _subsets(30, 30, 4, 20, seed=1)
            ]
        ),
        rel=1e-9,
    )
    # the cubic kernel is not scale-free: the unscaled KID is a different, larger number
    assert abs(kid(a, b, subsets=4, subset_size=20, generator=1)[0]) > 100 * abs(scaled[0])
    for bad in (0.0, -1.0, float("nan"), float("inf"), "2", True):
        with pytest.raises(GankitError, match="KID scale must be a finite number > 0"):
            kid(a, b, subset_size=20, scale=bad)


def _subsets(n_a, n_b, subsets, size, seed):
    g = torch.Generator().manual_seed(seed)
    for _ in range(subsets):
        yield (
            torch.randperm(n_a, generator=g)[:size].numpy(),
            torch.randperm(n_b, generator=g)[:size].numpy(),
        )


def test_rms_scale_by_hand():
    assert rms_scale(np.array([[3.0, 4.0], [0.0, 0.0]])) == pytest.approx(np.sqrt(25 / 4))
    assert rms_scale(np.zeros((3, 2))) == 1.0  # nothing to scale
    assert rms_scale(np.array([[2.0, -2.0]])) == pytest.approx(2.0)


def reference_is(logits, splits):
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    n, scores = len(p), []
    for i in range(splits):
        part = p[i * n // splits : (i + 1) * n // splits]
        py = part.mean(0)
        scores.append(np.exp(np.mean(np.sum(part * (np.log(part) - np.log(py)), axis=1))))
    return np.mean(scores), np.std(scores)


def test_inception_score_matches_reference():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((103, 7)) * 3
    mean, std = inception_score(logits, splits=4)
    ref_mean, ref_std = reference_is(logits, 4)
    assert mean == pytest.approx(ref_mean, rel=1e-10)
    assert std == pytest.approx(ref_std, rel=1e-8)


def test_inception_score_by_hand():
    c = 10
    confident = np.full((c * 20, c), -1e4)
    confident[np.arange(c * 20), np.arange(c * 20) % c] = 0.0
    assert inception_score(confident, splits=1)[0] == pytest.approx(c, rel=1e-9)
    assert inception_score(np.zeros((50, c)), splits=5) == pytest.approx((1.0, 0.0))
    # one class only: the marginal equals each conditional, IS = 1
    one = np.full((30, c), -1e4)
    one[:, 3] = 0
    assert inception_score(one, splits=3)[0] == pytest.approx(1.0)


def test_inception_score_shuffle_is_seeded_and_permutation_invariant_for_one_split():
    rng = np.random.default_rng(6)
    logits = torch.from_numpy(rng.standard_normal((40, 5)))
    assert inception_score(logits, splits=1, generator=1)[0] == pytest.approx(
        inception_score(logits, splits=1)[0], rel=1e-12
    )
    assert inception_score(logits, 4, generator=2) == inception_score(logits, 4, generator=2)


def test_inception_score_refusals():
    with pytest.raises(GankitError, match="needs class logits"):
        inception_score(None)
    with pytest.raises(GankitError, match="n_classes >= 2"):
        inception_score(np.zeros((20, 1)))
    with pytest.raises(GankitError, match="5 samples cannot make 10 splits"):
        inception_score(np.zeros((5, 3)))
    with pytest.raises(GankitError, match="non-finite"):
        inception_score(np.array([[0.0, np.inf]] * 20))
