"""The importance-weighted bound of a VAE's nets on data (Burda, Grosse & Salakhutdinov 2016):
the VAE's test log-likelihood estimate, ``L_k(x) <= log p(x)``, rising to it as ``k`` grows.

`gankit.game.elbo.importance_weighted_bound` is the bound's formula on given terms (the
log-mean-exp of ``k`` importance weights); :func:`vae_importance_weighted_bound` draws the ``k``
codes ``z_j ~ q(z|x)`` of a `gankit.nets.vae.VAE` and computes the terms (``log p(x|z_j)`` by
its decoder's likelihood, ``log p(z_j)`` under ``N(0, I)``, ``log q(z_j|x)``), in chunks so that
``k = 500`` fits in memory. ``k = 1`` is the one-sample ELBO estimate (its KL sampled, not in
closed form): its expectation is the ELBO.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.game.elbo import (
    bernoulli_log_likelihood,
    gaussian_log_likelihood,
    importance_weighted_bound,
    log_normal,
    log_standard_normal,
)
from gankit.nets.vae import VAE

#: decoded examples per chunk (k codes for each of the chunk's points)
DECODES_PER_CHUNK = 8192


def decoder_log_likelihood(vae: VAE, out: Tensor, x: Tensor, batch_dims: int = 1) -> Tensor:
    """``log p(x|z)`` of the decoder's output ``out`` for data ``x`` (nets' convention), summed
    over data dimensions: ``(k, n, ...)`` against ``(n, ...)`` with ``batch_dims=2`` ->
    ``(k, n)``."""
    target = vae.target(x)
    if vae.likelihood == "bernoulli":
        return bernoulli_log_likelihood(out, target, batch_dims=batch_dims)
    return gaussian_log_likelihood(out, vae.log_scale, target, batch_dims=batch_dims)


@torch.no_grad()
def vae_importance_weighted_bound(
    vae: VAE,
    x: Tensor,
    k: int,
    generator: torch.Generator,
    decodes_per_chunk: int = DECODES_PER_CHUNK,
) -> Tensor:
    """``(n,)`` ``L_k(x)`` (Burda et al. 2016, eq. 8) of each of ``x (n, *data_shape)`` under
    ``vae``, in nats, with ``k`` codes per point drawn from ``generator`` (on ``x``'s device);
    the points go through in chunks of ``decodes_per_chunk // k`` (at least one)."""
    if k < 1:
        raise ValueError(f"the importance-weighted bound needs k >= 1 samples, got {k}")
    step = max(1, decodes_per_chunk // k)
    out = []
    for start in range(0, x.shape[0], step):
        xs = x[start : start + step]
        mu, logvar = vae.encode(xs)
        z = vae.reparameterize(mu, logvar, generator, samples=k)  # (k, m, d)
        log_px_z = decoder_log_likelihood(vae, vae.decode(z), xs, batch_dims=2)
        out.append(
            importance_weighted_bound(
                log_px_z,
                log_standard_normal(z, batch_dims=2),
                log_normal(z, mu, logvar, batch_dims=2),
            )
        )
    return torch.cat(out)


__all__ = ["decoder_log_likelihood", "vae_importance_weighted_bound"]
