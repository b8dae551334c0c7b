"""D's remedy layers against formulas worked out independently (loops, numpy), and their
contracts: features/score split, packing, spectral norm, functional_call, double backward."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from gankit.errors import GankitError
from gankit.nets.layers import minibatch_features, minibatch_std, pack_samples
from gankit.nets.mlp import Discriminator
from gankit.nets.moments import MomentsDiscriminator, group_moments

VARIANTS = {
    "plain": {},
    "depth0": {"depth": 0},
    "spectral_norm": {"spectral_norm": True},
    "minibatch_std": {"minibatch_std": True},
    "minibatch_std_depth0": {"minibatch_std": True, "depth": 0},
    "minibatch_disc": {"minibatch_kernels": 3, "minibatch_kernel_dim": 4},
    "pack": {"pack": 4},
    "identity": {"identity_classes": 3},
    "everything": {
        "pack": 2,
        "minibatch_std": True,
        "minibatch_kernels": 2,
        "spectral_norm": True,
    },
}


def make_d(**kw) -> Discriminator:
    depth = kw.pop("depth", 2)
    return Discriminator(2, 8, depth, "leaky_relu", **kw)


# ----------------------------------------------------------------------------- formulas


def test_minibatch_discrimination_matches_double_loop():
    torch.manual_seed(0)
    n, a, b, c = 5, 3, 4, 2
    f = torch.randn(n, a, dtype=torch.float64)
    t = torch.randn(a, b * c, dtype=torch.float64)
    m = (f @ t).numpy().reshape(n, b, c)
    expected = np.zeros((n, b))
    for i in range(n):
        for j in range(n):
            if j != i:
                for k in range(b):
                    expected[i, k] += math.exp(-np.abs(m[i, k] - m[j, k]).sum())
    got = minibatch_features(f, t, b)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    # Salimans et al.'s sum over all j adds exp(0) = 1 per kernel
    with_self = minibatch_features(f, t, b, include_self=True)
    np.testing.assert_allclose(with_self.numpy(), expected + 1.0, rtol=1e-12)


def test_minibatch_std_matches_numpy():
    torch.manual_seed(1)
    f = torch.randn(12, 5, dtype=torch.float64)
    whole = minibatch_std(f)
    expected = np.sqrt(f.numpy().var(0) + 1e-8).mean()
    assert whole.shape == (12, 1)
    np.testing.assert_allclose(whole.numpy(), np.full((12, 1), expected), rtol=1e-12)
    # ProGAN's strided groups: group size 3 -> 4 groups, sample i in group i % 4
    grouped = minibatch_std(f, group=3).numpy()[:, 0]
    x = f.numpy()
    for i in range(12):
        members = x[[j for j in range(12) if j % 4 == i % 4]]
        np.testing.assert_allclose(grouped[i], np.sqrt(members.var(0) + 1e-8).mean(), rtol=1e-12)


def test_group_moments_matches_numpy():
    x = torch.randn(64, 2, dtype=torch.float64)
    got = group_moments(x, 32).numpy()
    for k in range(2):
        block = x.numpy()[32 * k : 32 * (k + 1)]
        np.testing.assert_allclose(got[k, :2], block.mean(0), rtol=1e-12)
        np.testing.assert_allclose(got[k, 2:], block.std(0, ddof=1), rtol=1e-12)
    with pytest.raises(GankitError, match="train.batch_size"):
        group_moments(x[:40], 32)


def test_pack_samples_layout_and_error():
    x = torch.arange(12.0).reshape(6, 2)
    packed = pack_samples(x, 3)
    assert packed.shape == (2, 6)
    assert packed[1].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    with pytest.raises(GankitError, match="model.pack"):
        pack_samples(x[:5], 3)


# ----------------------------------------------------------------------------- D contracts


def test_default_d_is_the_plain_mlp():
    """The default D creates its parameters as before (same names, same order, same values)."""
    torch.manual_seed(0)
    d = make_d()
    torch.manual_seed(0)
    from gankit.nets.mlp import MLP

    mlp = MLP(2, 1, 8, 2, "leaky_relu")
    assert [k for k, _ in d.named_parameters()] == ["body." + k for k, _ in mlp.named_parameters()]
    x = torch.randn(7, 2)
    assert torch.equal(d(x), mlp(x))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_features_score_split(name):
    torch.manual_seed(0)
    d = make_d(**VARIANTS[name])
    x = torch.randn(8, 2)
    pack = VARIANTS[name].get("pack", 1)
    f = d.features(x)
    assert f.shape[0] == 8 // pack
    torch.manual_seed(1)  # spectral norm's power iteration runs on every training call
    d_copy = copy.deepcopy(d)
    assert torch.allclose(d(x), d_copy.score(d_copy.features(x)))
    assert d(x).shape == (8 // pack, 1)
    if VARIANTS[name].get("identity_classes"):
        assert d.identity(f).shape == (8, 3)
    else:
        with pytest.raises(GankitError, match="game.diversity"):
            d.identity(f)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_functional_call_and_double_backward(name):
    torch.manual_seed(0)
    d = make_d(**VARIANTS[name])
    x = torch.randn(8, 2)
    state = {**dict(d.named_parameters()), **dict(d.named_buffers())}
    doubled = {k: (2 * v if "weight" in k and v.requires_grad else v) for k, v in state.items()}
    d.eval()  # no power-iteration update, so that both calls see the same u
    ref = copy.deepcopy(d)
    out = torch.func.functional_call(d, state, (x,))
    assert torch.allclose(out, ref(x), atol=1e-6)
    if not VARIANTS[name].get("spectral_norm"):  # SN divides the doubling out again
        assert not torch.allclose(torch.func.functional_call(d, doubled, (x,)), out)
    d.train()
    xr = x.clone().requires_grad_(True)
    scores = torch.func.functional_call(d, state, (xr,))
    (grad,) = torch.autograd.grad(scores.sum(), xr, create_graph=True)
    grad.pow(2).sum().backward()  # R1 / GP: grad of grad
    grads = [p.grad for p in d.parameters() if p.grad is not None]  # (not the score's bias)
    assert all(torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)


def test_spectral_norm_unit_singular_value_and_checkpoint():
    torch.manual_seed(0)
    d = Discriminator(2, 16, 2, "leaky_relu", spectral_norm=True, identity_classes=4)
    x = torch.randn(32, 2)
    linears = [m for m in d.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 4
    with torch.no_grad():  # raw weights far from norm 1, so that the normalisation shows
        for layer in linears:
            layer.parametrizations.weight.original.mul_(3.0)
    for _ in range(200):  # power iterations, one per training-mode forward of each layer
        d.identity(d.features(x)), d(x)
    d.eval()  # read the weights without one more iteration
    for layer in linears:
        raw = torch.linalg.matrix_norm(layer.parametrizations.weight.original.detach(), ord=2)
        sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2)
        assert abs(float(sigma) - 1.0) < 1e-2 and float(raw) > 1.5
    d.train()
    # a state_dict round trip (what runs.save_checkpoint / restore do) reproduces D exactly
    torch.manual_seed(5)
    other = Discriminator(2, 16, 2, "leaky_relu", spectral_norm=True, identity_classes=4)
    other.load_state_dict(d.state_dict(), strict=True)
    d.eval(), other.eval()
    assert torch.equal(d(x), other(x))
    d.train(), other.train()
    assert torch.equal(d(x), other(x))  # same u, same next power iteration


def test_packed_output_depends_on_its_pack_only():
    torch.manual_seed(0)
    d = make_d(pack=3)
    x = torch.randn(9, 2)
    base = d(x)
    for i in range(9):
        y = x.clone()
        y[i] += 1.0
        changed = (d(y) - base).abs()[:, 0] > 1e-7
        assert changed.tolist() == [k == i // 3 for k in range(3)]


def test_eval_mode_scores_points_as_packs_of_copies():
    torch.manual_seed(0)
    d = make_d(pack=3).eval()
    x = torch.randn(5, 2)
    assert d.pointwise
    expected = torch.stack([d.score(d.body.net[:-1](d.standardize(xi).repeat(3))) for xi in x])
    assert torch.allclose(d(x), expected.reshape(5, 1), atol=1e-6)
    with pytest.raises(GankitError, match="model.pack"):
        d.train()(x)


def test_minibatch_layers_see_the_batch():
    torch.manual_seed(0)
    for kw in ({"minibatch_std": True}, {"minibatch_kernels": 2}):
        d = make_d(**kw)
        assert not d.pointwise
        x = torch.randn(6, 2)
        y = x.clone()
        y[5] += 1.0
        assert (d(y)[0] - d(x)[0]).abs() > 1e-7  # sample 0's score moves with sample 5


def test_moments_discriminator_sees_only_moments():
    torch.manual_seed(0)
    d = MomentsDiscriminator(1, 8, 2, "leaky_relu", group=4)
    x = torch.randn(8, 1)
    assert d(x).shape == (2, 1) and d.features(x).shape == (2, 8)
    shuffled = x[torch.tensor([3, 2, 1, 0, 7, 6, 5, 4])]  # same groups, other order
    assert torch.allclose(d(x), d(shuffled))
    # a group with the same mean and std (reflected about its mean) gets the same score
    g = x[:4]
    reflected = torch.cat([2 * g.mean() - g, x[4:]])
    assert torch.allclose(d(x), d(reflected), atol=1e-6)
    assert d.eval()(x).shape == (8, 1) and not d.pointwise
