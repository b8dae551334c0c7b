"""Probabilistic PCA (Tipping & Bishop 1999) in closed form, its exact density and its samples;
the closed-form fit on the loop (SGD at rate 1 onto the targets); the autoencoder's code
Gaussian, fitted with the same moments."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from torch import nn

from gankit.game.pca import (
    gaussian_mean_log_likelihood,
    moments,
    ppca_covariance,
    ppca_fit,
)
from gankit.nets.autoencoder import Autoencoder, build_autoencoder
from gankit.nets.pca import ProbabilisticPCA
from gankit.recipes.autoencoder.step import encode_all, fit_code_gaussian
from gankit.recipes.pca.step import closed_form_step, rate_one_sgd

F64 = torch.float64


def _known_covariance(values, seed=0):
    """A covariance with eigenvalues ``values`` and a random orthonormal basis ``Q``."""
    d = len(values)
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=F64))
    return q @ torch.diag(torch.tensor(values, dtype=F64)) @ q.T, q


def test_moments_are_numpys_mean_and_biased_covariance():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1000, 5, generator=g) * torch.tensor([1.0, 2, 3, 4, 5]) + 100.0
    mean, cov = moments(x, chunk=77)  # chunks that do not divide N
    a = x.double().numpy()
    np.testing.assert_allclose(mean.numpy(), a.mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.cov(a, rowvar=False, bias=True), rtol=1e-9)


def test_the_closed_form_is_the_known_eigen_solution():
    values = [9.0, 4.0, 1.0, 0.5, 0.3, 0.2]
    cov, q = _known_covariance(values)
    weight, sigma2 = ppca_fit(cov, 2)
    # sigma^2: the mean of the 4 discarded eigenvalues; W's columns: the top eigenvectors
    # scaled by sqrt(l_i - sigma^2) (up to each column's sign)
    assert float(sigma2) == pytest.approx((1.0 + 0.5 + 0.3 + 0.2) / 4, rel=1e-12)
    for i in range(2):
        expected = q[:, i] * math.sqrt(values[i] - float(sigma2))
        got = weight[:, i]
        sign = torch.sign((got * expected).sum())
        torch.testing.assert_close(got * sign, expected, rtol=1e-9, atol=1e-9)
    # the model covariance keeps the top-2 eigenpairs and flattens the rest to sigma^2
    model_values = torch.linalg.eigvalsh(ppca_covariance(weight, sigma2)).flip(0)
    expected_values = torch.tensor([9.0, 4.0, *[float(sigma2)] * 4], dtype=F64)
    torch.testing.assert_close(model_values, expected_values, rtol=1e-9, atol=1e-9)


def test_the_closed_form_maximises_the_likelihood_among_nearby_parameters():
    cov, _ = _known_covariance([5.0, 2.0, 1.0, 0.4, 0.1], seed=3)
    weight, sigma2 = ppca_fit(cov, 2)
    best = gaussian_mean_log_likelihood(ppca_covariance(weight, sigma2), cov)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        w = weight + 0.05 * torch.randn(weight.shape, generator=g, dtype=F64)
        s2 = sigma2 * (1 + 0.1 * float(torch.randn((), generator=g, dtype=F64)))
        assert gaussian_mean_log_likelihood(ppca_covariance(w, s2), cov) < best


def test_refusals_of_the_fit():
    cov, _ = _known_covariance([2.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="components < 3"):
        ppca_fit(cov, 3)
    flat = torch.diag(torch.tensor([2.0, 1.0, 0.0], dtype=F64))  # nothing left out to explain
    with pytest.raises(ValueError, match="no variance"):
        ppca_fit(flat, 2)


def _fitted(x, q):
    model = ProbabilisticPCA((x.shape[1],), q)
    mean, cov = moments(x)
    weight, sigma2 = ppca_fit(cov, q)
    targets = {"mean": mean, "weight": weight, "sigma2": sigma2}
    return model, targets, cov


def _data(n=4000, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=F64)
    return torch.randn(n, d, generator=g, dtype=F64) @ mix + torch.arange(d, dtype=F64)


def test_the_loops_sgd_at_rate_one_lands_on_the_targets():
    x = _data()
    model, targets, _ = _fitted(x, 2)
    opt = rate_one_sgd(model)
    for _ in range(2):  # the second step finds nothing left to move
        opt.zero_grad(set_to_none=True)
        distance = closed_form_step(model, targets)
        opt.step()
        for name, p in model.named_parameters():
            torch.testing.assert_close(p.detach(), targets[name].to(p), rtol=0, atol=1e-15)
    assert distance == 0.0


def test_log_prob_is_scipys_and_its_mean_is_the_closed_form_likelihood():
    x = _data()
    model, targets, cov = _fitted(x, 3)
    opt = rate_one_sgd(model)
    closed_form_step(model, targets)
    opt.step()
    c = ppca_covariance(targets["weight"], targets["sigma2"])
    reference = multivariate_normal(targets["mean"].numpy(), c.numpy()).logpdf(x[:50].numpy())
    np.testing.assert_allclose(model.log_prob(x[:50]).numpy(), reference, rtol=1e-9)
    mean_ll = gaussian_mean_log_likelihood(c, cov)
    assert float(model.log_prob(x).mean()) == pytest.approx(float(mean_ll), rel=1e-9)


def test_samples_reproduce_the_model_and_the_training_covariance():
    x = _data(n=20000, d=5)
    model, targets, cov = _fitted(x, 4)  # q = D - 1: the model covariance is near S itself
    opt = rate_one_sgd(model)
    closed_form_step(model, targets)
    opt.step()
    samples = model.sample(200_000, torch.Generator().manual_seed(0)).double()
    s_mean, s_cov = moments(samples)
    c = ppca_covariance(targets["weight"], targets["sigma2"])
    scale = float(c.diagonal().max())
    torch.testing.assert_close(s_mean, targets["mean"], rtol=0, atol=0.02 * scale**0.5)
    torch.testing.assert_close(s_cov, c, rtol=0, atol=0.03 * scale)
    # with q = D - 1 only one eigenvalue is flattened: C is the training covariance but for it
    torch.testing.assert_close(s_cov, cov, rtol=0, atol=0.05 * scale)


def test_image_samples_keep_their_shape_and_range():
    model = ProbabilisticPCA((1, 4, 4), 3)
    with torch.no_grad():
        model.sigma2.fill_(4.0)  # draws far outside [-1, 1]
    x = model.sample(100, torch.Generator().manual_seed(0))
    assert x.shape == (100, 1, 4, 4) and x.dtype == torch.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert model.log_prob(x).shape == (100,)


# --- the autoencoder's code Gaussian --------------------------------------------------------


def test_the_code_gaussian_is_the_codes_mean_and_covariance():
    torch.manual_seed(0)
    model = build_autoencoder("mlp", 3, latent_dim=2, width=8, depth=1, activation="tanh")
    points = torch.randn(500, 3) * 2.0
    fit_code_gaussian(model, points, "cpu")
    codes = encode_all(model, points, "cpu")
    a = codes.numpy()
    np.testing.assert_allclose(model.code_mean.double().numpy(), a.mean(0), rtol=1e-5, atol=1e-6)
    cov = (model.code_scale_tril @ model.code_scale_tril.T).double().numpy()
    np.testing.assert_allclose(cov, np.cov(a, rowvar=False, bias=True), rtol=1e-4, atol=1e-6)


def test_codes_are_drawn_from_the_fitted_gaussian():
    """With identity nets, samples are the codes themselves: their mean and covariance are the
    fitted Gaussian's."""
    ae = Autoencoder(nn.Identity(), nn.Identity(), 3, (3,))
    mean = torch.tensor([1.0, -2.0, 0.5])
    cov = torch.tensor([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    ae.set_code_gaussian(mean, cov)
    z = ae.sample(200_000, torch.Generator().manual_seed(0)).double()
    s_mean, s_cov = moments(z)
    torch.testing.assert_close(s_mean, mean.double(), rtol=0, atol=0.01)
    torch.testing.assert_close(s_cov, cov.double(), rtol=0, atol=0.02)


def test_a_singular_code_covariance_gets_a_jitter():
    ae = Autoencoder(nn.Identity(), nn.Identity(), 2, (2,))
    ae.set_code_gaussian(torch.zeros(2), torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
    assert torch.isfinite(ae.code_scale_tril).all()
    z = ae.sample(1000, torch.Generator().manual_seed(0))
    assert torch.allclose(z[:, 0], z[:, 1], atol=1e-2)  # still on the line the codes lie on
