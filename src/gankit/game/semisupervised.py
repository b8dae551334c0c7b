"""The semi-supervised GAN's objective (Salimans et al. 2016, "Improved techniques for training
GANs", sec. 5), as pure functions of D's K class logits.

D is a (K+1)-way classifier: K real classes and "generated". Salimans et al. fix the generated
class's logit at 0, so D outputs K logits ``l (n, K)`` and

    p(y = k | x) = exp l_k / (Z(x) + 1),  p(generated | x) = 1 / (Z(x) + 1),
    Z(x) = sum_k exp l_k(x),  D(x) = 1 - p(generated | x) = Z(x) / (Z(x) + 1),

so that ``D(x) = sigmoid(LSE(l))`` with ``LSE(l) = log Z(x)``: the logit of "real" is the
log-sum-exp of the class logits. The losses are written with ``logsumexp`` and ``softplus``
(``log D = LSE - softplus(LSE)``, ``log(1 - D) = -softplus(LSE)``), finite for any logits.
G is trained by feature matching (`gankit.game.terms.feature_matching`, sec. 3.1).

An optional term, ``class_entropy`` of D's class posterior on unlabelled images, is entropy
minimisation (Grandvalet & Bengio 2005), which Dai et al. (2017, "Good semi-supervised learning
that requires a bad GAN", sec. 4) add to this objective.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.game.terms import mean_entropy


def _logits(logits: Tensor) -> Tensor:
    if logits.dim() != 2 or logits.shape[1] < 1:
        raise ValueError(f"class logits must be (n, K) with K >= 1, got {tuple(logits.shape)}")
    return logits


def real_logit(logits: Tensor) -> Tensor:
    """``(n, K) -> (n,)``: ``LSE(l) = log Z(x)``, the logit of D(x) = Z / (Z + 1) (the
    probability that x is real, of any class)."""
    return torch.logsumexp(_logits(logits), dim=1)


def with_generated_logit(logits: Tensor) -> Tensor:
    """``(n, K) -> (n, K + 1)``: the K class logits and the generated class's, fixed at 0 --
    the (K+1)-logit classifier that Salimans et al.'s K-logit parameterisation stands for."""
    logits = _logits(logits)
    return torch.cat([logits, logits.new_zeros(logits.shape[0], 1)], dim=1)


def supervised_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean ``-log p(y | x, y < K + 1)`` of labelled examples: the cross-entropy of the K class
    logits ``(n, K)`` against ``labels (n,)`` int64 (the generated class drops out of the
    softmax conditioned on "real"); a scalar."""
    logits = _logits(logits)
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels must be ({logits.shape[0]},), got {tuple(labels.shape)}")
    return F.cross_entropy(logits, labels)


def unsupervised_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``-E log D(x) - E log(1 - D(G(z)))`` from D's class logits on unlabelled real images
    ``(n, K)`` and on generated ones ``(n', K)``: ``mean(softplus(LSE_r) - LSE_r) +
    mean(softplus(LSE_f))``; a scalar."""
    lse_real, lse_fake = real_logit(real_logits), real_logit(fake_logits)
    return (F.softplus(lse_real) - lse_real).mean() + F.softplus(lse_fake).mean()


def class_entropy(logits: Tensor) -> Tensor:
    """Mean entropy ``-sum_k p(k | x, real) log p(k | x, real)`` (nats) of D's posterior over
    the K real classes, from class logits ``(n, K)``; a scalar. Minimised on unlabelled images
    it pushes D's class boundaries away from them (entropy minimisation)."""
    return mean_entropy(F.log_softmax(_logits(logits), dim=1))


def discriminator_loss(
    labelled_logits: Tensor,
    labels: Tensor,
    unlabelled_logits: Tensor | None,
    fake_logits: Tensor | None,
    supervised_weight: float = 1.0,
    unsupervised_weight: float = 1.0,
    entropy_weight: float = 0.0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """D's loss ``w_s * L_supervised + w_u * L_unsupervised`` (Salimans et al. eq. in sec. 5),
    plus ``w_e * class_entropy`` of the unlabelled logits where ``w_e > 0`` (Dai et al. 2017),
    and its terms (detached); without unlabelled and generated logits (the supervised
    baseline) ``w_s * L_supervised`` alone."""
    sup = supervised_loss(labelled_logits, labels)
    stats = {"supervised_loss": sup.detach()}
    total = supervised_weight * sup
    if unlabelled_logits is not None and fake_logits is not None:
        unsup = unsupervised_loss(unlabelled_logits, fake_logits)
        stats["unsupervised_loss"] = unsup.detach()
        total = total + unsupervised_weight * unsup
        if entropy_weight > 0:
            entropy = class_entropy(unlabelled_logits)
            stats["class_entropy"] = entropy.detach()
            total = total + entropy_weight * entropy
    stats["d_loss"] = total.detach()
    return total, stats


def manifold_penalty(logits: Tensor, perturbed_logits: Tensor) -> Tensor:
    """``(n, K), (n, K) -> ()``: the mean squared distance between D's class logits on ``G(z)``
    and on ``G(z + eps * r)`` (r a random unit direction): the Monte Carlo estimate of the
    Jacobian norm of D along G's manifold, Lecouat et al. 2018 ("Semi-supervised learning with
    GANs: revisiting manifold regularization"), which smooths the classifier along the
    data's manifold as G maps it."""
    return (_logits(logits) - _logits(perturbed_logits)).pow(2).sum(dim=1).mean()


def predicted_classes(logits: Tensor) -> Tensor:
    """``(n, K) -> (n,)`` int64: D's class prediction among the K real classes (the generated
    class never wins an argmax over the real ones, since only their ratio matters)."""
    return _logits(logits).argmax(dim=1)


__all__ = [
    "class_entropy",
    "discriminator_loss",
    "manifold_penalty",
    "predicted_classes",
    "real_logit",
    "supervised_loss",
    "unsupervised_loss",
    "with_generated_logit",
]
