"""Unrolled GANs (Metz et al. 2017): k = 0 is the plain G loss, k = 1 with SGD is a hand-written
one-step lookahead, Adam's unrolled update is torch's Adam, and the real D is left alone."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import GameConfig
from gankit.game.game import Game
from gankit.game.unrolled import FunctionalDiscriminator, adam_update, rule_from_optimizer
from gankit.nets.mlp import Discriminator


def _nets(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(2, 2).double(), nn.Linear(2, 1).double()


def _batches(seed=1, n=8):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 2, generator=g, dtype=torch.float64) for _ in range(4)]


def _grads(loss, module):
    return torch.autograd.grad(loss, list(module.parameters()))


def test_k0_is_the_plain_generator_loss_and_gradient():
    G, D = _nets()
    _, _, z, _ = _batches()
    game = Game(GameConfig(loss="nonsaturating"))
    opt = torch.optim.Adam(D.parameters(), lr=0.1)
    plain, _ = game.generator_loss(D, G(z))
    unrolled, _ = game.generator_loss(game.unrolled(D, [], opt), G(z))
    assert float(unrolled.detach()) == float(plain.detach())
    for a, b in zip(_grads(plain, G), _grads(unrolled, G)):
        assert torch.equal(a, b)


def test_k1_sgd_is_a_one_step_lookahead_written_by_hand():
    G, D = _nets()
    real1, z1, z2, _ = _batches()
    lr = 0.3
    # by hand: D(x) = x w^T + b, nonsaturating D loss on (real1, G(z1)), one SGD step, then G's
    # loss -E log sigmoid(D'(G(z2))) through the step
    w = D.weight.detach().clone().requires_grad_(True)
    b = D.bias.detach().clone().requires_grad_(True)
    d_loss = F.softplus(-(real1 @ w.T + b)).mean() + F.softplus(G(z1) @ w.T + b).mean()
    gw, gb = torch.autograd.grad(d_loss, (w, b), create_graph=True)
    w1, b1 = w - lr * gw, b - lr * gb
    hand = F.softplus(-(G(z2) @ w1.T + b1)).mean()

    game = Game(GameConfig(loss="nonsaturating"))
    view = game.unrolled(D, [(real1, G(z1))], torch.optim.SGD(D.parameters(), lr=lr))
    ours, _ = game.generator_loss(view, G(z2))
    assert float(ours.detach()) == pytest.approx(float(hand.detach()), rel=1e-12)
    ours_grads, hand_grads = _grads(ours, G), _grads(hand, G)
    for a, b in zip(ours_grads, hand_grads):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-14)
    # the lookahead matters: it is not the gradient against the current D
    plain, _ = game.generator_loss(D, G(z2))
    assert not torch.allclose(_grads(plain, G)[0], ours_grads[0])


def test_adam_update_is_torch_adam():
    torch.manual_seed(0)
    p = torch.randn(3, 2, dtype=torch.float64)
    param = nn.Parameter(p.clone())
    opt = torch.optim.Adam([param], lr=0.01, betas=(0.5, 0.9), eps=1e-8)
    params, state = {"p": p.clone()}, {}
    for i in range(3):
        grad = torch.randn(3, 2, dtype=torch.float64)
        grad[0, 0] = 0.0  # a zero gradient stays finite
        param.grad = grad.clone()
        opt.step()
        params, state = adam_update(params, {"p": grad}, state, 0.01, (0.5, 0.9), 1e-8)
        assert torch.allclose(params["p"], param.detach(), rtol=1e-12, atol=1e-15), i


def test_adam_rule_copies_the_optimizer_state_and_leaves_d_alone():
    G, D = _nets()
    real1, z1, z2, real2 = _batches()
    opt = torch.optim.Adam(D.parameters(), lr=0.05, betas=(0.5, 0.999))
    game = Game(GameConfig(loss="hinge"))
    loss, _ = game.discriminator_loss(D, real2, G(z2))
    loss.backward()
    opt.step()
    rule = rule_from_optimizer(opt, D)
    assert rule.kind == "adam" and rule.lr == 0.05 and rule.betas == (0.5, 0.999)
    assert torch.equal(rule.state["weight"]["exp_avg"], opt.state[D.weight]["exp_avg"])
    D.zero_grad(set_to_none=True)
    before = {k: v.detach().clone() for k, v in D.state_dict().items()}
    state_before = {k: v.clone() for k, v in opt.state[D.weight].items()}
    view = game.unrolled(D, [(real1, G(z1)), (real2, G(z2))], opt)
    g_loss, _ = game.generator_loss(view, G(z1))
    g_loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in G.parameters())
    for k, v in D.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert D.weight.grad is None
    for k, v in opt.state[D.weight].items():
        assert torch.equal(v, state_before[k])
    # the next Adam step's moments would differ: the view moved the copied state, not opt's
    assert not torch.equal(view.params["weight"], D.weight)


def test_functional_view_of_a_gankit_discriminator():
    torch.manual_seed(0)
    D = Discriminator(2, 8, 2, "leaky_relu").double()
    x = torch.randn(5, 2, dtype=torch.float64)
    view = FunctionalDiscriminator(D, dict(D.named_parameters()))
    assert torch.equal(view(x), D(x))
    assert torch.equal(view.features(x), D.features(x))
    assert torch.equal(view.score(view.features(x)), D(x))
    shifted = {k: v + 1.0 for k, v in D.named_parameters()}
    assert not torch.equal(FunctionalDiscriminator(D, shifted)(x), D(x))
