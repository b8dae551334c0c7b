"""The variational objective of the VAE (Kingma & Welling 2014, "Auto-encoding variational
Bayes") and the importance-weighted bound (Burda, Grosse & Salakhutdinov 2016, "Importance
weighted autoencoders"), as pure functions: tensors in, tensors out, no module state, no
in-place writes, no host synchronisation, so that they compose with ``torch.func`` (``grad``,
``vmap``, ``functional_call``).

For data ``x``, an encoder ``q(z|x) = N(mu, diag exp(logvar))``, the prior ``p(z) = N(0, I)``
and a decoder ``p(x|z)``, the evidence lower bound (Kingma & Welling 2014, eq. 3 and 10) is

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x),

the gap being ``KL(q(z|x) || p(z|x))``. The first term (``reconstruction``) is estimated with
``z = mu + exp(logvar / 2) * eps``, ``eps ~ N(0, I)`` (the reparameterisation trick); the
second is exact for Gaussians (:func:`gaussian_kl`, the paper's appendix B). With ``k``
samples ``z_j ~ q(z|x)`` the importance-weighted bound (Burda et al. 2016, eq. 8)

    L_k(x) = log (1/k) sum_j p(x, z_j) / q(z_j|x)

satisfies ``ELBO = E[L_1] <= E[L_k] <= E[L_{k+1}] <= log p(x)`` and tends to ``log p(x)``.

Conventions. Every density is in nats, returned per sample: the leading ``batch_dims``
dimensions (default 1: ``(n,)``) are kept and every other dimension (latent dimensions, data
dimensions, pixels and channels) is summed over. Arguments broadcast against each other before
the sum, so ``k`` samples ``z (k, n, d)`` read against one encoder output ``mu (n, d)`` with
``batch_dims=2`` give ``(k, n)``; under ``torch.func.vmap`` over samples pass ``batch_dims=0``.
Every function is a maximised log-density except :func:`negative_elbo_loss`, the scalar a
training step minimises.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

LOG_2PI = math.log(2.0 * math.pi)


def _sum_event(t: Tensor, batch_dims: int) -> Tensor:
    """``t`` summed over every dimension after the first ``batch_dims``."""
    if batch_dims < 0 or t.dim() < batch_dims:
        raise ValueError(f"batch_dims = {batch_dims} for a tensor of shape {tuple(t.shape)}")
    if t.dim() == batch_dims:
        return t  # nothing to sum (t.sum(dim=()) would sum everything)
    return t.sum(dim=tuple(range(batch_dims, t.dim())))


def gaussian_kl(mu: Tensor, logvar: Tensor, batch_dims: int = 1) -> Tensor:
    """``KL(N(mu, diag exp(logvar)) || N(0, I))`` in nats: ``(n, d), (n, d) -> (n,)``.

    ``0.5 * sum_i (mu_i^2 + exp(logvar_i) - 1 - logvar_i)`` (Kingma & Welling 2014, appendix B,
    with the sign of a divergence), exact, >= 0, and 0 only at ``mu = 0, logvar = 0``.
    ``logvar`` may broadcast against ``mu`` (one variance shared by all samples)."""
    kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)
    return _sum_event(kl, batch_dims)


def log_normal(z: Tensor, mu: Tensor, logvar: Tensor, batch_dims: int = 1) -> Tensor:
    """``log N(z; mu, diag exp(logvar))`` summed over dimensions: ``(n, d) -> (n,)``.

    ``-0.5 * sum_i (log 2 pi + logvar_i + (z_i - mu_i)^2 / exp(logvar_i))``, the full density
    (constant included), for ``log q(z|x)`` in :func:`importance_weighted_bound`. Arguments
    broadcast: ``z (k, n, d)`` against ``mu, logvar (n, d)`` with ``batch_dims=2`` -> ``(k, n)``."""
    log_density = -0.5 * (LOG_2PI + logvar + (z - mu).square() * torch.exp(-logvar))
    return _sum_event(log_density, batch_dims)


def log_standard_normal(z: Tensor, batch_dims: int = 1) -> Tensor:
    """``log N(z; 0, I)`` summed over dimensions, the VAE's prior ``log p(z)``: ``(n, d) -> (n,)``
    (``(k, n, d) -> (k, n)`` with ``batch_dims=2``)."""
    return _sum_event(-0.5 * (LOG_2PI + z.square()), batch_dims)


def bernoulli_log_likelihood(logits: Tensor, x: Tensor, batch_dims: int = 1) -> Tensor:
    """``sum_i x_i log sigmoid(l_i) + (1 - x_i) log(1 - sigmoid(l_i))``: ``(n, ...) -> (n,)``.

    The decoder of Kingma & Welling (2014, appendix C.1) for targets ``x`` in [0, 1] (images:
    :func:`gankit.nets.vae.to_unit` of the nets' [-1, 1] pixels), read from raw ``logits``:
    minus the binary cross-entropy, in its stable form ``-(max(l, 0) - l x + log(1 + e^-|l|))``
    (``F.binary_cross_entropy_with_logits``), finite for any logit. For binary ``x`` it is the
    Bernoulli log-probability; for grey levels it is the cross-entropy that VAEs on MNIST train
    with, not a normalised density of ``x`` (that would be the continuous Bernoulli of
    Loaiza-Ganem & Cunningham 2019): compare its values only between models scored alike.
    ``x`` is not range-checked here (a check would synchronise the device every step)."""
    logits, x = torch.broadcast_tensors(logits, x)
    log_p = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return _sum_event(log_p, batch_dims)


def gaussian_log_likelihood(
    mean: Tensor, log_scale: Tensor | float, x: Tensor, batch_dims: int = 1
) -> Tensor:
    """``log N(x; mean, diag exp(log_scale)^2)`` summed over dimensions: ``(n, ...) -> (n,)``.

    ``sum_i (-0.5 log 2 pi - log_scale_i - 0.5 ((x_i - mean_i) / exp(log_scale_i))^2)``, the full
    constant included, so that values are log-densities comparable with a toy's exact
    ``log_prob``. ``log_scale`` (the log standard deviation) broadcasts against ``mean``: a
    float, a learned scalar per data dimension ``(dim,)`` or ``(C, H, W)``, or one per sample.
    The decoder of Kingma & Welling (2014, appendix C.2), in the data's own units."""
    log_scale = torch.as_tensor(log_scale, dtype=mean.dtype, device=mean.device)
    standardized = (x - mean) * torch.exp(-log_scale)
    log_density = -0.5 * LOG_2PI - log_scale - 0.5 * standardized.square()
    return _sum_event(log_density, batch_dims)


def _same_shape(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    # broadcasting (n,) against (n, 1) would silently give (n, n): refuse it
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} {tuple(a.shape)} and {name_b} {tuple(b.shape)} must have the same shape"
        )


def elbo(log_likelihood: Tensor, kl: Tensor) -> Tensor:
    """Per-sample ELBO, ``log p(x|z) - KL(q(z|x) || p(z))``: ``(n,), (n,) -> (n,)``.

    ``log_likelihood`` from :func:`bernoulli_log_likelihood` or :func:`gaussian_log_likelihood`
    at ``z`` drawn from ``q`` (a one-sample estimate of ``E_q[log p(x|z)]``), ``kl`` from
    :func:`gaussian_kl` (Kingma & Welling 2014, eq. 10). Raises `ValueError` when the shapes
    differ (no silent broadcast)."""
    _same_shape("log_likelihood", log_likelihood, "kl", kl)
    return log_likelihood - kl


def negative_elbo_loss(log_likelihood: Tensor, kl: Tensor, kl_weight: float = 1.0) -> Tensor:
    """The scalar a training step minimises: ``mean_n(kl_weight * kl - log_likelihood)``.

    With ``kl_weight = 1`` (the default) it is minus the batch mean of :func:`elbo`, in nats per
    sample. Another weight is not a bound on ``log p(x)`` any more: ``beta > 1`` is the
    beta-VAE (Higgins et al. 2017), a weight ramped from 0 to 1 is KL annealing (Bowman et al.
    2016); log :func:`elbo_stats` for the true ELBO."""
    _same_shape("log_likelihood", log_likelihood, "kl", kl)
    return (kl_weight * kl - log_likelihood).mean()


def elbo_stats(log_likelihood: Tensor, kl: Tensor) -> dict[str, Tensor]:
    """The ELBO's terms for logging, batch means in nats per sample, detached 0-d tensors
    (``float()`` of each is the number to write): ``elbo = reconstruction - kl``, with
    ``reconstruction`` the mean ``log p(x|z)`` (higher is better) and ``kl`` the mean
    ``KL(q(z|x) || p(z))``. No synchronisation happens here: call ``float`` when logging."""
    _same_shape("log_likelihood", log_likelihood, "kl", kl)
    reconstruction = log_likelihood.detach().mean()
    divergence = kl.detach().mean()
    return {"elbo": reconstruction - divergence, "reconstruction": reconstruction, "kl": divergence}


def importance_weighted_bound(
    log_p_x_given_z: Tensor, log_p_z: Tensor, log_q_z_given_x: Tensor
) -> Tensor:
    """The IWAE bound ``L_k`` of Burda et al. (2016, eq. 8): ``(k, n)`` x 3 -> ``(n,)``.

    Row ``j`` holds the terms of sample ``z_j ~ q(z|x)`` for each of the ``n`` data points:
    ``log p(x|z_j)`` (a likelihood with ``batch_dims=2``), ``log p(z_j)``
    (:func:`log_standard_normal`) and ``log q(z_j|x)`` (:func:`log_normal`). Returns
    ``logsumexp_j(log w_j) - log k`` with ``log w_j = log p(x|z_j) + log p(z_j) - log q(z_j|x)``,
    computed stably. ``k = 1`` gives the one-sample ELBO estimate (with the KL estimated by the
    sample, not in closed form); with the exact posterior as ``q`` every ``log w_j`` equals
    ``log p(x)``, and so does the bound. Raises `ValueError` unless the three are ``(k, n)``."""
    _same_shape("log_p_x_given_z", log_p_x_given_z, "log_p_z", log_p_z)
    _same_shape("log_p_x_given_z", log_p_x_given_z, "log_q_z_given_x", log_q_z_given_x)
    if log_p_x_given_z.dim() != 2:
        raise ValueError(
            f"the importance-weighted bound reads (k samples, n points), got "
            f"{tuple(log_p_x_given_z.shape)}"
        )
    k = log_p_x_given_z.shape[0]
    log_w = log_p_x_given_z + log_p_z - log_q_z_given_x
    return torch.logsumexp(log_w, dim=0) - math.log(k)
