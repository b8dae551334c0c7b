"""InfoGAN's mutual-information term (`gankit.game.mutual_info`) against hand computations and
torch's own distributions."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gankit.game.mutual_info import (
    categorical_nll,
    clustering_loss,
    gaussian_nll,
    information_loss,
    mutual_info_bound,
)


def test_categorical_term_is_the_cross_entropy_worked_by_hand():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    code = torch.tensor([0, 2])
    # -log softmax: row 0 at its code: log(1 + 2 e^-2); row 1: log(2 + e) - 0
    expected = (math.log(1 + 2 * math.exp(-2)) + math.log(2 + math.e)) / 2
    assert categorical_nll(logits, code).item() == pytest.approx(expected, rel=1e-6)


def test_a_confident_right_q_costs_nothing_and_a_wrong_one_costs_much():
    code = torch.tensor([1, 0])
    right = torch.tensor([[-20.0, 20.0], [20.0, -20.0]])
    assert categorical_nll(right, code).item() < 1e-6
    assert categorical_nll(-right, code).item() > 39.0


def test_gaussian_term_is_the_negative_log_density_worked_by_hand():
    mean = torch.tensor([[0.5, 0.0]])
    log_std = torch.tensor([[math.log(2.0), 0.0]])
    target = torch.tensor([[1.5, -1.0]])
    # code 1: z = (1.5 - 0.5) / 2 = 0.5: 0.125 + log 2 + log(2 pi) / 2; code 2: 0.5 + log(2 pi)/2
    expected = 0.125 + math.log(2.0) + 0.5 + math.log(2 * math.pi)
    assert gaussian_nll(mean, log_std, target).item() == pytest.approx(expected, rel=1e-6)


def test_gaussian_term_matches_torch_normal():
    g = torch.Generator().manual_seed(0)
    mean, log_std, target = (torch.randn(64, 3, generator=g) for _ in range(3))
    reference = -torch.distributions.Normal(mean, log_std.exp()).log_prob(target).sum(1).mean()
    assert gaussian_nll(mean, log_std, target).item() == pytest.approx(reference.item(), rel=1e-5)


def test_unit_std_is_half_the_squared_error_plus_a_constant():
    mean = torch.tensor([[0.0], [1.0]])
    target = torch.tensor([[1.0], [1.0]])
    value = gaussian_nll(mean, torch.zeros_like(mean), target).item()
    assert value == pytest.approx(0.25 + 0.5 * math.log(2 * math.pi), rel=1e-6)


def test_weights_and_bound():
    ce, nll = torch.tensor(0.3), torch.tensor(2.0)
    assert information_loss(ce, nll, 1.0, 0.1).item() == pytest.approx(0.5)
    assert information_loss(ce, nll, 0.0, 0.0).item() == 0.0
    # H(c) of a uniform 10-valued code is log 10; of two codes uniform on [-1, 1], 2 log 2
    bound = mutual_info_bound(ce, nll, 10, 2).item()
    assert bound == pytest.approx(math.log(10) + 2 * math.log(2) - 2.3, rel=1e-6)
    assert mutual_info_bound(torch.tensor(0.0), 0.0, 10, 0).item() == pytest.approx(math.log(10))


def test_gradients_reach_the_logits_and_the_means():
    logits = torch.zeros(4, 3, requires_grad=True)
    mean = torch.zeros(4, 2, requires_grad=True)
    loss = information_loss(
        categorical_nll(logits, torch.tensor([0, 1, 2, 0])),
        gaussian_nll(mean, torch.zeros(4, 2), torch.ones(4, 2)),
        1.0,
        0.1,
    )
    loss.backward()
    # d CE / d logit of the true class = (p - 1) / n = (1/3 - 1) / 4; d NLL / d mean = -(1-0)/n
    assert logits.grad[0, 0].item() == pytest.approx((1 / 3 - 1) / 4, rel=1e-5)
    assert mean.grad[0, 0].item() == pytest.approx(-0.1 / 4, rel=1e-5)


def test_clustering_entropies_worked_by_hand():
    # rows: softmax (1/2, 1/2) and (1, 0) (logit gap 40): H(Y|X) = (log 2 + 0) / 2; the mean
    # posterior (3/4, 1/4): H(Y) = -(3/4 log 3/4 + 1/4 log 1/4)
    logits = torch.tensor([[0.0, 0.0], [20.0, -20.0]])
    conditional, marginal = clustering_loss(logits)
    assert conditional.item() == pytest.approx(math.log(2) / 2, rel=1e-6)
    expected = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert marginal.item() == pytest.approx(expected, rel=1e-6)


def test_clustering_entropies_match_torch_categorical():
    g = torch.Generator().manual_seed(1)
    logits = 3 * torch.randn(50, 7, generator=g)
    conditional, marginal = clustering_loss(logits)
    posterior = torch.distributions.Categorical(logits=logits)
    mean = torch.distributions.Categorical(probs=posterior.probs.mean(0))
    assert conditional.item() == pytest.approx(posterior.entropy().mean().item(), rel=1e-5)
    assert marginal.item() == pytest.approx(mean.entropy().item(), rel=1e-5)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(2, 12),
    st.floats(0.1, 30.0),
    st.integers(0, 2**31 - 1),
)
def test_clustering_entropies_bounds(n, k, scale, seed):
    """0 <= H(Y|X) <= H(Y) <= log K (the entropy is concave): the term is at most 0."""
    logits = scale * torch.randn(n, k, generator=torch.Generator().manual_seed(seed))
    conditional, marginal = clustering_loss(logits)
    assert -1e-6 <= conditional.item() <= marginal.item() + 1e-5
    assert marginal.item() <= math.log(k) + 1e-5


def test_clustering_term_is_lowest_for_confident_balanced_assignments():
    balanced = 30 * torch.eye(4).repeat(3, 1)  # 12 rows, each value 3 times, confident
    merged = 30 * torch.eye(4)[[0, 0, 0, 1]].repeat(3, 1)  # half the rows on one value
    low = torch.sub(*clustering_loss(balanced)).item()
    assert low == pytest.approx(-math.log(4), abs=1e-5)
    assert torch.sub(*clustering_loss(merged)).item() > low + 0.2
