"""InfoGAN's mutual-information term (Chen et al. 2016, "InfoGAN: interpretable representation
learning by information maximizing generative adversarial nets", eq. 4-5).

The variational lower bound ``L_I(G, Q) = E_{c ~ p(c), x ~ G(z, c)}[log Q(c | x)] + H(c) <=
I(c; G(z, c))``: with ``H(c)`` a constant of the prior, maximising it is minimising the negative
log-likelihood of the codes G was given under Q's posterior, ``-E log Q(c | x)``: the
cross-entropy of Q's logits for a categorical code, the Gaussian negative log-likelihood of
Q's means (and log-stds) for continuous codes. Both players minimise ``lambda * CE +
lambda_cont * NLL`` beside their adversarial losses (G and Q together). Pure: tensors in,
tensors out, in nats per example.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from gankit.game.terms import mean_entropy

HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)


def categorical_nll(logits: Tensor, code: Tensor) -> Tensor:
    """``-mean_i log Q(c_i | x_i)`` for a categorical code: ``logits (n, K)`` of Q, ``code
    (n,)`` int64 the values G was given; the cross-entropy, a scalar (nats)."""
    return F.cross_entropy(logits.float(), code.long())


def gaussian_nll(mean: Tensor, log_std: Tensor, target: Tensor) -> Tensor:
    """``-mean_i sum_j log N(c_ij; mean_ij, exp(log_std_ij)^2)`` for continuous codes: ``mean``,
    ``log_std`` and ``target`` ``(n, m)`` (``log_std`` broadcasts: zeros for a unit std); a
    scalar (nats per example, summed over the m codes)."""
    mean, log_std, target = mean.float(), log_std.float(), target.float()
    z = (target - mean) * torch.exp(-log_std)
    per_code = 0.5 * z.pow(2) + log_std + HALF_LOG_TWO_PI
    return per_code.sum(1).mean() if per_code.dim() == 2 else per_code.mean()


def information_loss(
    categorical: Tensor, continuous: Tensor, weight: float, continuous_weight: float
) -> Tensor:
    """The term both players minimise: ``weight * CE + continuous_weight * NLL`` (``lambda``
    and the paper's smaller weight for continuous codes, sec. 7)."""
    return weight * categorical + continuous_weight * continuous


def clustering_loss(logits: Tensor) -> tuple[Tensor, Tensor]:
    """``(H(Y | X), H(Y))`` of Q's categorical posterior on a minibatch ``logits (n, K)``: the
    mean entropy of each row's softmax and the entropy of their mean, in nats. Minimising
    ``H(Y | X) - H(Y)`` is regularized information maximisation (Krause et al. 2010), CatGAN's
    objective on real data (Springenberg 2016): confident assignments, every value used."""
    log_p = F.log_softmax(logits.float(), dim=1)
    conditional = mean_entropy(log_p)
    log_marginal = torch.logsumexp(log_p, dim=0) - math.log(logits.shape[0])
    marginal = mean_entropy(log_marginal[None])  # one row: the entropy of the mean posterior
    return conditional, marginal


def mutual_info_bound(
    categorical: Tensor, continuous: Tensor, categories: int, continuous_codes: int
) -> Tensor:
    """``L_I`` in nats: ``H(c) - NLL`` with ``H(c)`` of the prior: ``log K`` for the uniform
    categorical code and ``log 2`` per code uniform on [-1, 1] (a differential entropy); the
    categorical part alone is a lower bound on ``I(c_cat; x)``, at most ``log K``."""
    entropy = math.log(categories) + continuous_codes * math.log(2.0)
    return entropy - categorical - continuous
