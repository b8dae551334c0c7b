"""AdaGAN: boosting GANs into a mixture (Tolstikhin et al. 2017, "AdaGAN: Boosting Generative
Models", NeurIPS; reference code github.com/tolstikhin/adagan).

With ``game.boost_rounds = T > 0`` a run trains T generators in sequence. Round 1 is an ordinary
GAN on a finite *pool* of N points drawn once from the toy. After round t a fresh classifier C_t
separates the pool from the current mixture P_t = sum_j alpha_j G_j; its logit estimates
``log p_data/p_model``, so ``h(x) = exp(-logit(x))`` estimates ``dP_t/dP_data``. Round t+1 trains a
fresh G (and D) on the pool reweighted by the paper's optimal weights (Section 3.1, eq. 17-18):

    w_i = (lambda* - (1 - beta) h(x_i))_+ / (N beta),   lambda* such that sum_i w_i = 1,

where ``beta`` is the mixture weight the *new* component will get, P_{t+1} = (1-beta) P_t + beta
G_{t+1}. (Written with the old mixture's share ``b = 1 - beta`` this is the
``(lambda* - b h)_+ / (N (1 - b))`` form.) Limits: ``beta = 1`` (the new component replaces the
model) gives uniform weights; ``beta -> 0`` puts all the mass, uniformly, on the points the model
misses most (the smallest h). Points with h = 0 (never generated) always get the largest weight.

Mixture weights: ``beta_t = 1/t``, the paper's simple choice (and the reference code's
``beta_heur = 'uniform'``): the final mixture is uniform over the T components. The paper's
"optimal" beta needs the unknown divergence of each component and is not implemented.

This module is the math, pure functions on tensors (float64): :func:`optimal_lambda`,
:func:`data_weights`, :func:`density_ratio`, :func:`round_beta`, :func:`mixture_weights`. The
rounds, their files and the ratio classifier are the AdaGAN recipe (`gankit.recipes.adagan`);
the mixture is `gankit.nets.boosted.BoostedMixture`, its pool `gankit.data.weighted.WeightedPool`.
"""

from __future__ import annotations

import torch

#: Logits are clipped to +-this before ``exp(-logit)``: h stays in [1e-13, 1e13], finite.
LOGIT_CLIP = 30.0


def optimal_lambda(h: torch.Tensor, beta: float) -> float:
    """lambda* of AdaGAN's optimal weights: the unique root of
    ``sum_i (lambda - (1 - beta) h_i)_+ = N beta`` (paper eq. 18), in closed form by sorting.

    ``h``: ``(N,)`` finite, nonnegative estimates of ``dP_model/dP_data`` at the pool points;
    ``beta`` in (0, 1]. With h sorted ascending and c = 1 - beta, if exactly the k smallest
    points are active then ``lambda_k = (N beta + c sum_{i<=k} h_i) / k``; lambda* is ``lambda_k``
    for the largest k with ``c h_k < lambda_k`` (water filling). Raises `ValueError` on bad input.
    """
    h = _check_h(h)
    beta = _check_beta(beta)
    n = h.numel()
    c = 1.0 - beta
    hs, _ = torch.sort(h)
    lam = (n * beta + c * torch.cumsum(hs, 0)) / torch.arange(1, n + 1, dtype=torch.float64)
    active = c * hs < lam
    k = int(torch.nonzero(active).max())  # active[0] always holds since n * beta > 0
    return float(lam[k])


def data_weights(h: torch.Tensor, beta: float) -> torch.Tensor:
    """``(N,)`` float64 weights of the pool for the next round (paper Section 3.1, eq. 17):
    ``w_i = (lambda* - (1 - beta) h_i)_+ / (N beta)``; nonnegative, summing to 1, decreasing in h.

    ``beta`` is the weight the next component gets in the mixture; ``beta = 1`` gives 1/N."""
    h = _check_h(h)
    beta = _check_beta(beta)
    lam = optimal_lambda(h, beta)
    w = torch.clamp(lam - (1.0 - beta) * h, min=0.0) / (h.numel() * beta)
    return w / w.sum()  # exact in theory; this removes the rounding of the sums


def density_ratio(logits: torch.Tensor) -> torch.Tensor:
    """``h = exp(-logit)``, float64: a logistic classifier of data (label 1) against model
    (label 0) has at its optimum ``logit = log p_data/p_model``, so h estimates
    ``p_model/p_data`` (the reference code's ``(1 - D)/D``). Logits clipped to +-`LOGIT_CLIP`."""
    return torch.exp(-logits.detach().double().reshape(-1).clamp(-LOGIT_CLIP, LOGIT_CLIP))


def round_beta(t: int) -> float:
    """Mixture weight of the component of round ``t`` (1-based) when it joins: ``1/t``."""
    if t < 1:
        raise ValueError(f"round must be >= 1, got {t}")
    return 1.0 / t


def mixture_weights(betas: list[float]) -> torch.Tensor:
    """``(T,)`` float64 weights alpha of the mixture built by ``P_t = (1 - b_t) P_{t-1} + b_t G_t``:
    ``alpha_t = b_t prod_{s > t} (1 - b_s)``. ``betas[0]`` must be 1 (the first component is the
    whole model); with ``b_t = 1/t`` every alpha is 1/T."""
    if not betas or abs(betas[0] - 1.0) > 1e-12:
        raise ValueError(f"betas must start with 1.0, got {list(betas)[:1]}")
    alpha = torch.zeros(len(betas), dtype=torch.float64)
    for t, b in enumerate(betas):
        _check_beta(b)
        alpha *= 1.0 - b
        alpha[t] = b
    return alpha


def _check_h(h: torch.Tensor) -> torch.Tensor:
    h = torch.as_tensor(h, dtype=torch.float64).reshape(-1)
    if h.numel() == 0:
        raise ValueError("h: needs at least one point")
    if not bool(torch.isfinite(h).all()) or bool((h < 0).any()):
        raise ValueError("h: density ratios must be finite and nonnegative")
    return h


def _check_beta(beta: float) -> float:
    beta = float(beta)
    if not 0.0 < beta <= 1.0:
        raise ValueError(f"beta must be in (0, 1], got {beta}")
    return beta
