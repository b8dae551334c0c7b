"""The semi-supervised D: DCGAN's body with a K-logit head, and its read-out as D(x)."""

from __future__ import annotations

import pytest
import torch

from gankit.nets.dcgan import DCGANDiscriminator
from gankit.nets.semisupervised import RealScore, SemiSupervisedDiscriminator


@pytest.mark.parametrize("size", [8, 28])
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_shapes_and_features_as_dcgan(size, spectral_norm):
    torch.manual_seed(0)
    d = SemiSupervisedDiscriminator(1, size, 10, width=8, spectral_norm=spectral_norm)
    torch.manual_seed(0)
    plain = DCGANDiscriminator(1, size, 8, spectral_norm=spectral_norm)
    x = torch.rand(5, 1, size, size) * 2 - 1
    d.eval()
    plain.eval()  # batch norm: the same running statistics on both sides
    assert d.feature_dim == plain.feature_dim
    assert d(x).shape == (5, 10)
    assert d.features(x).shape == (5, d.feature_dim)
    # the same body, drawn from the same seed, gives the same features
    body = {k: v for k, v in d.state_dict().items() if not k.startswith("score_head")}
    plain_body = {k: v for k, v in plain.state_dict().items() if not k.startswith("score_head")}
    assert body.keys() == plain_body.keys()
    assert torch.allclose(d.features(x), plain.features(x))
    logits = d.score(d.features(x))
    assert torch.allclose(logits, d(x))


def test_real_score_is_the_logit_of_d():
    d = SemiSupervisedDiscriminator(1, 8, 3, width=4).eval()
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    logits = d(x)
    z = logits.double().exp().sum(1)
    score = RealScore(d)(x)
    assert score.shape == (4, 1)
    assert torch.allclose(torch.sigmoid(score.double()).reshape(-1), z / (z + 1), atol=1e-6)


def test_refusals():
    with pytest.raises(ValueError, match="num_classes"):
        SemiSupervisedDiscriminator(1, 8, 1)
    d = SemiSupervisedDiscriminator(1, 8, 3, width=4)
    with pytest.raises(ValueError, match="no classes"):
        d(torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.int64))


def _noisy_body_by_hand(d, x, std, g):
    """D's convolutional body with noise of ``std`` after each LeakyReLU, drawn in order from
    ``g``; the activations and ``g`` (to draw on from). ``forward`` runs each layer without
    D's own noise hooks."""
    h = x
    for layer in d.body:
        h = layer.forward(h)
        if isinstance(layer, torch.nn.LeakyReLU):
            h = h + std * torch.randn(h.shape, generator=g)
    return h, g


def test_hidden_noise_only_in_training_and_from_its_generator():
    torch.manual_seed(0)
    d = SemiSupervisedDiscriminator(1, 16, 3, width=4, norm="layer")
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    clean = d.features(x)
    d.set_hidden_noise(0.5, torch.Generator().manual_seed(1))
    noisy = d.features(x)
    assert not torch.allclose(noisy, clean)
    d.set_hidden_noise(0.5, torch.Generator().manual_seed(1))
    assert torch.equal(d.features(x), noisy)  # the same stream, the same noise
    # by hand: noise after each LeakyReLU, drawn in order from the generator
    h, _ = _noisy_body_by_hand(d, x, 0.5, torch.Generator().manual_seed(1))
    assert torch.allclose(h.flatten(1), noisy)
    d.eval()
    assert torch.allclose(d.features(x), clean)


def test_fully_connected_layer_feeds_the_head_and_takes_hidden_noise():
    torch.manual_seed(0)
    d = SemiSupervisedDiscriminator(1, 16, 3, width=4, norm="layer", hidden=6)
    assert d.feature_dim == 6 and d.score_head.in_features == 6
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    linear, norm, act = d.hidden
    # by hand, clean: the body flattened, then Linear -> GroupNorm(1, 6) -> LeakyReLU(0.2)
    f = d.body(x).flatten(1) @ linear.weight.T
    f = (f - f.mean(1, keepdim=True)) / torch.sqrt(f.var(1, unbiased=False, keepdim=True) + 1e-5)
    f = torch.nn.functional.leaky_relu(f * norm.weight + norm.bias, 0.2)
    assert torch.allclose(d.features(x), f, atol=1e-5)
    assert torch.allclose(d(x), f @ d.score_head.weight.T + d.score_head.bias, atol=1e-5)
    # noisy: after every LeakyReLU of the body, then after the fully-connected one
    d.set_hidden_noise(0.5, torch.Generator().manual_seed(2))
    noisy = d.features(x)
    h, g = _noisy_body_by_hand(d, x, 0.5, torch.Generator().manual_seed(2))
    h = act.forward(norm(linear(h.flatten(1))))
    h = h + 0.5 * torch.randn(h.shape, generator=g)
    assert torch.allclose(noisy, h, atol=1e-6)
