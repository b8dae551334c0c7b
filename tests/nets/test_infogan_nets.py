"""InfoGAN's nets (`gankit.nets.infogan`): G reads [z, one-hot(c), c'], Q reads D's features."""

from __future__ import annotations

import pytest
import torch

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets.infogan import build_infogan_models

MODEL = ModelConfig(arch="dcgan", noise_dim=16, g_width=16, d_width=16, standardize=False)


def test_shapes_of_g_d_and_q():
    torch.manual_seed(0)
    g, d, q = build_infogan_models(MODEL, (1, 8, 8), categories=10, continuous=2, q_width=32)
    n = 5
    z, code, cont = torch.randn(n, 16), torch.arange(n), torch.rand(n, 2) * 2 - 1
    x = g(z, code, cont)
    assert x.shape == (n, 1, 8, 8) and float(x.detach().abs().max()) <= 1.0
    assert g.net.noise_dim == 16 + 10 + 2  # the DCGAN G reads the codes beside z
    assert d(x).shape == (n, 1)
    logits, means = q(d.features(x))
    assert logits.shape == (n, 10) and means.shape == (n, 2)


def test_g_reads_the_one_hot_of_the_code():
    """G(z, c, c') is the inner DCGAN G of the concatenation [z, one-hot(c), c']."""
    torch.manual_seed(0)
    g, _, _ = build_infogan_models(MODEL, (1, 8, 8), categories=3, continuous=1)
    g.eval()
    z, cont = torch.randn(2, 16), torch.tensor([[0.5], [-2.0]])
    code = torch.tensor([2, 0])
    expected = g.net(torch.cat([z, torch.tensor([[0.0, 0, 1], [1, 0, 0]]), cont], 1))
    assert torch.equal(g(z, code, cont), expected)
    assert not torch.equal(g(z, torch.tensor([1, 1]), cont), expected)


def test_noise_scale_multiplies_z_only():
    """``noise_scale`` s: G(z, c, c') is the inner G of [s z, one-hot(c), c']."""
    torch.manual_seed(0)
    g, _, _ = build_infogan_models(MODEL, (1, 8, 8), categories=3, continuous=1, noise_scale=0.1)
    g.eval()
    z, cont, code = torch.randn(2, 16), torch.tensor([[0.5], [-2.0]]), torch.tensor([2, 0])
    one_hot = torch.tensor([[0.0, 0, 1], [1, 0, 0]])
    assert torch.equal(g(z, code, cont), g.net(torch.cat([0.1 * z, one_hot, cont], 1)))
    assert not torch.equal(g(z, code, cont), g.net(torch.cat([z, one_hot, cont], 1)))


def test_q_shares_d_body_and_has_its_own_head():
    torch.manual_seed(0)
    _, d, q = build_infogan_models(MODEL, (1, 28, 28), categories=10, continuous=0)
    d_params = {id(p) for p in d.parameters()}
    assert not d_params & {id(p) for p in q.parameters()}
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    logits, means = q(d.features(x))
    assert logits.shape == (3, 10) and means.shape == (3, 0)
    logits.sum().backward()  # Q's loss reaches D's body: they share it
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in d.body.parameters())


def test_bad_codes_are_refused():
    g, _, _ = build_infogan_models(MODEL, (1, 8, 8), categories=4, continuous=2)
    z = torch.randn(2, 16)
    with pytest.raises(ValueError, match="lie in"):
        g(z, torch.tensor([0, 4]), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="continuous codes"):
        g(z, torch.tensor([0, 1]), torch.zeros(2, 3))


@pytest.mark.parametrize(
    ("change", "key"), [({"pack": 2}, "model.pack"), ({"conditional": True}, "model.conditional")]
)
def test_misfits_are_refused_naming_the_key(change, key):
    model = ModelConfig(**{**MODEL.__dict__, **change})
    with pytest.raises(GankitError, match=key):
        build_infogan_models(model, (1, 8, 8), categories=10, continuous=2)
