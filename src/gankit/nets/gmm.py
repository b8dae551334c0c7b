"""A Gaussian mixture as a generator with an exact likelihood.

``p(x) = sum_k pi_k N(x; mu_k, Sigma_k)`` with full ``(K, D, D)`` or diagonal ``(K, D)``
covariances, in scikit-learn's parametrisation (`sklearn.mixture.GaussianMixture`: ``weights_``,
``means_``, ``covariances_``, ``precisions_cholesky_``), so that the family's EM step (one
iteration of scikit-learn's, `gankit.recipes.gmm.step`) reads and writes these tensors as they
are. ``precisions_cholesky`` is ``P_k`` with ``Sigma_k^-1 = P_k P_k^T`` (diagonal: ``1 /
sqrt(variance)``), which is what :meth:`log_prob` reads:

    log N(x; mu, Sigma) = -(D log 2 pi)/2 + log|P| - |(x - mu)^T P|^2 / 2.

Points ``(n, D)`` as they are; images ``(n, C, H, W)`` flattened. Parameters are float64
`nn.Parameter`\\ s without gradients of their own: the loop's optimizer steps them (the
trainable writes their ``.grad``) and checkpoints hold them by name. ``fitted`` (a buffer)
says whether EM has been initialised (scikit-learn's k-means start, at the first step).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

COVARIANCES = ("full", "diag")
LOG_2PI = math.log(2.0 * math.pi)


def _fixed(t: Tensor) -> nn.Parameter:
    return nn.Parameter(t, requires_grad=False)


class GaussianMixture(nn.Module):
    """``components`` Gaussians over data shaped ``data_shape`` with ``covariance`` "full" or
    "diag"; starts as K copies of the standard normal until fitted."""

    def __init__(self, data_shape: tuple[int, ...], components: int, covariance: str):
        super().__init__()
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance {covariance!r} is not one of {', '.join(COVARIANCES)}")
        self.data_shape = tuple(int(v) for v in data_shape)
        self.images = len(self.data_shape) == 3
        self.dim = d = math.prod(self.data_shape)
        self.components = k = int(components)
        self.covariance = covariance
        f64 = torch.float64
        self.weights = _fixed(torch.full((k,), 1.0 / k, dtype=f64))
        self.means = _fixed(torch.zeros(k, d, dtype=f64))
        if covariance == "full":
            eye = torch.eye(d, dtype=f64).expand(k, d, d).clone()
            self.covariances = _fixed(eye)
            self.precisions_cholesky = _fixed(eye.clone())
        else:
            self.covariances = _fixed(torch.ones(k, d, dtype=f64))
            self.precisions_cholesky = _fixed(torch.ones(k, d, dtype=f64))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.int64))

    def flatten(self, x: Tensor) -> Tensor:
        """``(n, *data_shape) -> (n, D)`` in float64."""
        return x.reshape(x.shape[0], self.dim).double()

    @torch.no_grad()
    def component_log_prob(self, x: Tensor, chunk: int = 1024) -> Tensor:
        """``(n, K)``: ``log pi_k + log N(x; mu_k, Sigma_k)`` of ``x (n, *data_shape)``."""
        flat = self.flatten(x)
        p = self.precisions_cholesky
        if self.covariance == "full":
            log_det = p.diagonal(dim1=-2, dim2=-1).log().sum(-1)  # (K,)
        else:
            log_det = p.log().sum(-1)
        out = []
        for start in range(0, flat.shape[0], chunk):
            block = flat[start : start + chunk]
            centred = block[:, None, :] - self.means[None]  # (m, K, D)
            if self.covariance == "full":
                y = torch.einsum("mkd,kde->mke", centred, p)
            else:
                y = centred * p[None]
            out.append(-0.5 * y.square().sum(-1))
        quad = torch.cat(out)
        return self.weights.log() + log_det - 0.5 * self.dim * LOG_2PI + quad

    @torch.no_grad()
    def log_prob(self, x: Tensor) -> Tensor:
        """``(n,)`` exact ``log p(x)`` in nats of ``x (n, *data_shape)``, in its units."""
        return torch.logsumexp(self.component_log_prob(x), dim=1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``(n, *data_shape)`` float32 draws: components ``k ~ pi`` (one multinomial draw),
        then ``mu_k + L_k eps`` with ``L_k`` the Cholesky factor of ``Sigma_k`` (diagonal: the
        standard deviations), both from ``generator``; images clamped to [-1, 1]."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn((n, self.dim), generator=generator, dtype=torch.float64)
        if self.covariance == "full":
            chol = torch.linalg.cholesky(self.covariances)
            x = self.means[k].clone()
            for j in range(self.components):  # per component: no (n, D, D) gather
                rows = (k == j).nonzero().squeeze(1)
                x[rows] += eps[rows] @ chol[j].T
        else:
            x = self.means[k] + self.covariances[k].sqrt() * eps
        x = x.float().reshape(n, *self.data_shape)
        return x.clamp(-1.0, 1.0) if self.images else x


__all__ = ["COVARIANCES", "GaussianMixture"]
