"""BiGAN / ALI's nets (`gankit.nets.bigan`): shapes of E, D and G for images and points, the
stochastic encoder's moments, D's dropout drawn from the stream it is given (none in eval
mode), and the builder's refusals."""

from __future__ import annotations

import pytest
import torch

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets.bigan import (
    ConvEncoder,
    JointConvDiscriminator,
    JointMlpDiscriminator,
    MlpEncoder,
    build_bigan_models,
    conv_body,
)
from gankit.nets.dcgan import DCGANGenerator


@pytest.mark.parametrize(("size", "features"), [(8, 64 * 16), (28, 128 * 49)])
def test_conv_body_mirrors_dcgans_d(size, features):
    body, dim = conv_body(1, size, 64)
    assert dim == features
    assert body(torch.zeros(3, 1, size, size)).shape == (3, features)


@pytest.mark.parametrize("stochastic", [False, True])
def test_image_encoder_and_joint_d_shapes(stochastic):
    e = ConvEncoder(1, 28, 16, width=8, stochastic=stochastic)
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    mean, log_var = e.moments(x)
    assert mean.shape == (5, 16) and e(x).shape == (5, 16)
    assert (log_var is not None) == stochastic
    if stochastic:
        assert log_var.shape == (5, 16)
        assert torch.equal(e(x), mean)  # forward is the mean
    d = JointConvDiscriminator(1, 28, 16, width=8, joint_width=32)
    assert d(x, e(x)).shape == (5, 1)


def test_point_nets_shapes():
    e = MlpEncoder(2, 3, 16, 2, "relu", stochastic=True)
    mean, log_var = e.moments(torch.randn(7, 2))
    assert mean.shape == log_var.shape == (7, 3)
    d = JointMlpDiscriminator(2, 3, 16, 2, "relu", dropout=0.5)
    assert d(torch.randn(7, 2), torch.randn(7, 3)).shape == (7, 1)


def test_d_dropout_follows_its_stream_and_is_off_in_eval_mode():
    torch.manual_seed(0)
    d = JointMlpDiscriminator(2, 2, 32, 2, "relu", dropout=0.5)
    x, z = torch.randn(6, 2), torch.randn(6, 2)
    a = d(x, z, torch.Generator().manual_seed(1))
    b = d(x, z, torch.Generator().manual_seed(1))
    c = d(x, z, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    d.eval()
    assert torch.equal(d(x, z, torch.Generator().manual_seed(1)), d(x, z))
    image_d = JointConvDiscriminator(1, 8, 4, width=4, joint_width=8, dropout=0.5).eval()
    x8 = torch.zeros(2, 1, 8, 8)
    assert torch.equal(image_d(x8, torch.ones(2, 4)), image_d(x8, torch.ones(2, 4)))


def test_builder_reuses_the_gans_g_and_refuses_what_does_not_fit():
    model = ModelConfig(family="bigan", arch="dcgan", noise_dim=8, g_width=8, d_width=8)
    g, e, d = build_bigan_models(model, (1, 8, 8), joint_width=16, dropout=0.0, stochastic=False)
    assert isinstance(g, DCGANGenerator)
    z = torch.randn(4, 8)
    x = g(z)
    assert x.shape == (4, 1, 8, 8) and e(x).shape == (4, 8) and d(x, z).shape == (4, 1)
    points = ModelConfig(family="bigan", noise_dim=2, g_width=8, d_width=8)
    g, e, d = build_bigan_models(points, 2, joint_width=16, dropout=0.0, stochastic=False)
    assert g(torch.randn(3, 2)).shape == (3, 2) and e(torch.randn(3, 2)).shape == (3, 2)
    with pytest.raises(GankitError, match="model.arch = 'dcgan' needs image data"):
        build_bigan_models(model, 2, joint_width=16, dropout=0.0, stochastic=False)
    with pytest.raises(GankitError, match="model.arch = 'mlp' is for points"):
        build_bigan_models(points, (1, 8, 8), joint_width=16, dropout=0.0, stochastic=False)
    with pytest.raises(GankitError, match="bigan.dropout"):
        JointMlpDiscriminator(2, 2, 4, 1, "relu", dropout=1.0)
