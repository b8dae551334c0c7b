"""The semi-supervised GAN's (K+1)-class losses (Salimans et al. 2016, sec. 5) against their
formula, written here with an explicit (K+1)-way softmax, and against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.game.semisupervised import (
    class_entropy,
    discriminator_loss,
    manifold_penalty,
    predicted_classes,
    real_logit,
    supervised_loss,
    unsupervised_loss,
    with_generated_logit,
)


def softmax_k_plus_one(logits_k1: torch.Tensor) -> torch.Tensor:
    """The plain (K+1)-way softmax, in float64, written out: exp / sum exp."""
    e = logits_k1.double().exp()
    return e / e.sum(1, keepdim=True)


def losses_by_formula(labelled, labels, unlabelled, fake):
    """Salimans et al.'s L_supervised and L_unsupervised from a (K+1)-logit classifier whose
    last class is "generated": -log p(y | x, y < K+1), -log(1 - p_gen(x)) - log p_gen(G(z))."""
    p = softmax_k_plus_one(labelled)
    k = labelled.shape[1] - 1
    p_class = p[torch.arange(len(labels)), labels] / p[:, :k].sum(1)
    sup = -p_class.log().mean()
    p_gen_real = softmax_k_plus_one(unlabelled)[:, k]
    p_gen_fake = softmax_k_plus_one(fake)[:, k]
    unsup = -(1 - p_gen_real).log().mean() - p_gen_fake.log().mean()
    return float(sup), float(unsup)


def test_hand_computed_values():
    # K = 2, all logits 0: Z = 2, D = 2/3; -log D = log 1.5, -log(1 - D) = log 3
    zeros = torch.zeros(1, 2)
    assert float(unsupervised_loss(zeros, zeros)) == pytest.approx(math.log(1.5) + math.log(3))
    assert float(supervised_loss(zeros, torch.tensor([1]))) == pytest.approx(math.log(2))
    # logits (log 3, 0): Z = 4, D = 0.8; p(y = 0 | real) = 3/4
    logits = torch.tensor([[math.log(3.0), 0.0]])
    assert float(real_logit(logits)) == pytest.approx(math.log(4.0))
    assert float(unsupervised_loss(logits, logits)) == pytest.approx(-math.log(0.8) - math.log(0.2))
    assert float(supervised_loss(logits, torch.tensor([0]))) == pytest.approx(-math.log(0.75))


def test_losses_against_the_k_plus_one_softmax():
    g = torch.Generator().manual_seed(0)
    k = 5
    labelled = torch.randn(7, k, generator=g) * 3
    labels = torch.randint(k, (7,), generator=g)
    unlabelled = torch.randn(9, k, generator=g) * 3
    fake = torch.randn(6, k, generator=g) * 3
    total, stats = discriminator_loss(labelled, labels, unlabelled, fake, 0.7, 1.3)
    sup, unsup = losses_by_formula(
        with_generated_logit(labelled), labels, with_generated_logit(unlabelled),
        with_generated_logit(fake),
    )  # fmt: skip
    assert float(stats["supervised_loss"]) == pytest.approx(sup, rel=1e-5)
    assert float(stats["unsupervised_loss"]) == pytest.approx(unsup, rel=1e-5)
    assert float(total) == pytest.approx(0.7 * sup + 1.3 * unsup, rel=1e-5)


def test_k_logit_parameterisation_equals_any_generated_logit():
    """A (K+1)-logit classifier with any generated logit c is the K-logit one with l - c: the
    softmax is invariant to a common shift, so fixing c = 0 loses nothing."""
    g = torch.Generator().manual_seed(1)
    k = 4
    full = torch.randn(8, k + 1, generator=g) * 2  # last column: the generated class's logit
    labels = torch.randint(k, (8,), generator=g)
    reduced = full[:, :k] - full[:, k:]
    sup, unsup = losses_by_formula(full, labels, full, full.flip(0))
    assert float(supervised_loss(reduced, labels)) == pytest.approx(sup, rel=1e-5)
    assert float(unsupervised_loss(reduced, reduced.flip(0))) == pytest.approx(unsup, rel=1e-5)
    # D(x) = 1 - p_gen(x) = sigmoid(LSE(l))
    d = torch.sigmoid(real_logit(reduced)).double()
    assert torch.allclose(d, 1 - softmax_k_plus_one(full)[:, k], atol=1e-6)


def test_finite_for_extreme_logits_and_the_baseline_has_no_unsupervised_term():
    big = torch.tensor([[200.0, -200.0], [-200.0, -200.0]])
    value = unsupervised_loss(big, big)
    assert torch.isfinite(value)
    # real row 1 (Z = 2 e^-200) costs -log D ~ -log Z = 200 - log 2; fake row 0 (Z ~ e^200)
    # costs -log(1 - D) ~ log Z = 200; row 0 real and row 1 fake cost ~ 0
    assert float(value) == pytest.approx((200 - math.log(2)) / 2 + 200 / 2, rel=1e-6)
    total, stats = discriminator_loss(big, torch.tensor([0, 1]), None, None, 2.0)
    assert "unsupervised_loss" not in stats
    assert float(total) == pytest.approx(2.0 * float(supervised_loss(big, torch.tensor([0, 1]))))
    assert predicted_classes(big).tolist() == [0, 0]


def test_refuses_malformed_logits():
    with pytest.raises(ValueError, match="class logits"):
        real_logit(torch.zeros(3))
    with pytest.raises(ValueError, match="labels"):
        supervised_loss(torch.zeros(3, 2), torch.zeros(2, dtype=torch.int64))


def test_class_entropy_hand_values_and_formula():
    # K equal logits: the uniform posterior, entropy log K; one dominant class: entropy -> 0
    assert float(class_entropy(torch.zeros(3, 4))) == pytest.approx(math.log(4))
    assert float(class_entropy(torch.tensor([[300.0, 0.0, 0.0]]))) == pytest.approx(0.0, abs=1e-6)
    # logits (log 3, 0): p = (3/4, 1/4), H = -(3/4) log(3/4) - (1/4) log(1/4)
    h = -0.75 * math.log(0.75) - 0.25 * math.log(0.25)
    assert float(class_entropy(torch.tensor([[math.log(3.0), 0.0]]))) == pytest.approx(h)
    # against the posterior over the K real classes of the (K+1)-way softmax, row by row
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(6, 5, generator=g) * 4
    p = softmax_k_plus_one(with_generated_logit(logits))[:, :5]
    p = p / p.sum(1, keepdim=True)
    expected = float(-(p * p.log()).sum(1).mean())
    assert float(class_entropy(logits)) == pytest.approx(expected, rel=1e-5)
    # shifting every class logit by a constant (how real the image looks) leaves it unchanged
    assert float(class_entropy(logits + 7.0)) == pytest.approx(expected, rel=1e-5)


def test_the_entropy_term_reads_the_unlabelled_logits_with_its_weight():
    g = torch.Generator().manual_seed(3)
    labelled, unlabelled, fake = (torch.randn(5, 3, generator=g) for _ in range(3))
    labels = torch.tensor([0, 1, 2, 0, 1])
    plain, plain_stats = discriminator_loss(labelled, labels, unlabelled, fake, 1.0, 1.0)
    assert "class_entropy" not in plain_stats  # weight 0: Salimans et al.'s objective
    total, stats = discriminator_loss(labelled, labels, unlabelled, fake, 1.0, 1.0, 0.5)
    entropy = float(class_entropy(unlabelled))
    assert float(stats["class_entropy"]) == pytest.approx(entropy)
    assert float(total) == pytest.approx(float(plain) + 0.5 * entropy, rel=1e-6)


def test_manifold_penalty_hand_values_and_the_jacobian_form_of_a_linear_map():
    # rows (1, 2) against (0, 0): 1 + 4 = 5; a second row with no change: mean 2.5
    a = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
    b = torch.tensor([[0.0, 0.0], [3.0, -1.0]])
    assert float(manifold_penalty(a, b)) == pytest.approx(2.5)
    assert float(manifold_penalty(a, a)) == 0.0
    # D's logits f(G(z)) = W A z, a linear map: the finite difference at z + eps * r is exactly
    # eps^2 ||J r||^2, J = W A the Jacobian of Lecouat et al.'s regulariser ||J_z f(g(z))||
    g = torch.Generator().manual_seed(4)
    weights, latent_map = torch.randn(3, 5, generator=g), torch.randn(5, 4, generator=g)
    z, r = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    r = r / r.norm(dim=1, keepdim=True)
    eps = 0.3

    def logits_of(zs):
        return zs @ latent_map.T @ weights.T

    # (3, 4), the same at every z
    jacobian = torch.func.jacrev(lambda v: logits_of(v[None])[0])(z[0])
    expected = (eps**2) * ((r @ jacobian.T) ** 2).sum(1).mean()
    assert float(manifold_penalty(logits_of(z), logits_of(z + eps * r))) == pytest.approx(
        float(expected), rel=1e-5
    )
