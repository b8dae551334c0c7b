"""The Gaussian mixture family's model and EM step: the exact log-density against
scikit-learn's ``score_samples`` and an independent formula (scipy), samples with the mixture's
mean and covariance, and EM one iteration a step (through SGD at rate 1, as the loop does) equal
to scikit-learn's EM run straight through."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SkMixture

from gankit.game.pca import moments
from gankit.nets.gmm import GaussianMixture
from gankit.recipes.gmm.step import SKLEARN_NAMES, em_iteration
from gankit.recipes.pca.step import closed_form_step, rate_one_sgd


def _blobs(n=600, d=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(3, d))
    x = np.concatenate([c + rng.normal(0, 1 + i, size=(n // 3, d)) for i, c in enumerate(centres)])
    return x


def _loaded(covariance, x, seed=0, components=3):
    """Our module holding the parameters of scikit-learn's fit of ``x``."""
    sk = SkMixture(components, covariance_type=covariance, random_state=seed).fit(x)
    model = GaussianMixture((x.shape[1],), components, covariance)
    with torch.no_grad():
        for name, attr in SKLEARN_NAMES.items():
            getattr(model, name).copy_(torch.from_numpy(getattr(sk, attr)))
    return sk, model


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_log_prob_is_sklearns_score_samples(covariance):
    x = _blobs()
    sk, model = _loaded(covariance, x)
    np.testing.assert_allclose(
        model.log_prob(torch.from_numpy(x)).numpy(), sk.score_samples(x), rtol=1e-10
    )


def test_log_prob_is_the_mixture_formula():
    x = _blobs()
    sk, model = _loaded("full", x)
    by_hand = np.log(
        sum(
            w * multivariate_normal(m, c).pdf(x[:40])
            for w, m, c in zip(sk.weights_, sk.means_, sk.covariances_, strict=True)
        )
    )
    np.testing.assert_allclose(model.log_prob(torch.from_numpy(x[:40])).numpy(), by_hand, rtol=1e-9)


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_samples_have_the_mixtures_mean_and_covariance(covariance):
    x = _blobs()
    sk, model = _loaded(covariance, x)
    w, means = sk.weights_, sk.means_
    covs = (
        sk.covariances_ if covariance == "full" else np.stack([np.diag(v) for v in sk.covariances_])
    )
    mean = (w[:, None] * means).sum(0)
    cov = sum(w[k] * (covs[k] + np.outer(means[k] - mean, means[k] - mean)) for k in range(3))
    s = model.sample(200_000, torch.Generator().manual_seed(0)).double()
    s_mean, s_cov = moments(s)
    scale = float(np.diag(cov).max())
    np.testing.assert_allclose(s_mean.numpy(), mean, atol=0.02 * scale**0.5)
    np.testing.assert_allclose(s_cov.numpy(), cov, atol=0.03 * scale)


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_em_a_step_at_a_time_is_sklearns_em(covariance):
    x = _blobs()
    model = GaussianMixture((x.shape[1],), 3, covariance)
    opt = rate_one_sgd(model)
    lls = []
    for _ in range(6):
        opt.zero_grad(set_to_none=True)
        targets, ll = em_iteration(model, x, 1e-6, seed=5)
        closed_form_step(model, targets)
        opt.step()
        model.fitted.fill_(1)
        lls.append(ll)
    straight = SkMixture(
        3, covariance_type=covariance, max_iter=6, tol=0.0, random_state=5, reg_covar=1e-6
    )
    with pytest.warns(Warning):  # 6 iterations do not "converge" at tol = 0
        straight.fit(x)
    for name, attr in SKLEARN_NAMES.items():
        np.testing.assert_allclose(
            getattr(model, name).numpy(), getattr(straight, attr), rtol=1e-9, atol=1e-12
        )
    # EM never lowers the likelihood (after the k-means start), and the last E-step's is sklearn's
    assert all(b >= a - 1e-12 for a, b in zip(lls[1:], lls[2:], strict=False))
    assert lls[-1] == pytest.approx(straight.lower_bound_, rel=1e-12)
