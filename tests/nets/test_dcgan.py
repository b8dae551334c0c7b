"""DCGAN nets: layout by image size, shapes, initialisation, D's features/score contract and
remedies (packing, minibatch layers, identity head, spectral norm, norms), double backward,
and a tiny optimisation sanity check."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.errors import GankitError
from gankit.nets.dcgan import (
    ALLOWED_IMAGE_SIZES,
    DCGANDiscriminator,
    DCGANGenerator,
    dcgan_layout,
    init_dcgan_weights,
)
from gankit.nets.layers import minibatch_std, pack_samples

SIZES = [8, 16, 24, 28, 32, 64]

D_VARIANTS = {
    "plain": {},
    "pack2": {"pack": 2},
    "minibatch_std": {"minibatch_std": True},
    "minibatch_kernels": {"minibatch_kernels": 3, "minibatch_kernel_dim": 4},
    "identity": {"identity_classes": 3},
    "spectral_norm": {"spectral_norm": True},
    "norm_none": {"norm": "none"},
    "norm_layer": {"norm": "layer"},
    "hidden": {"hidden": 16},
    "hidden_norm_layer": {"hidden": 16, "norm": "layer"},
    "hidden_minibatch_std": {"hidden": 16, "minibatch_std": True},
    "everything": {
        "pack": 2,
        "minibatch_std": True,
        "minibatch_kernels": 2,
        "identity_classes": 2,
        "spectral_norm": True,
    },
}


def images(n: int, channels: int, size: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, size, size, generator=g) * 2 - 1


# ----------------------------------------------------------------------------- layout


@pytest.mark.parametrize(
    "size, layout",
    [
        (8, (4, 1)),
        (10, (5, 1)),
        (12, (6, 1)),
        (14, (7, 1)),
        (16, (4, 2)),
        (20, (5, 2)),
        (24, (6, 2)),
        (28, (7, 2)),
        (32, (4, 3)),
        (40, (5, 3)),
        (48, (6, 3)),
        (56, (7, 3)),
        (64, (4, 4)),
    ],
)
def test_layout_by_hand(size, layout):
    assert dcgan_layout(size) == layout


def test_layout_rule_over_all_sizes():
    for size in range(-2, 200):
        ok = any(size == b * 2**k for b in range(4, 8) for k in range(1, 5)) and size <= 64
        if ok:
            b, k = dcgan_layout(size)
            assert b * 2**k == size and 4 <= b <= 7 and k >= 1
            assert not (size % 2 ** (k + 1) == 0 and size // 2 ** (k + 1) >= 4)  # k is largest
        else:
            with pytest.raises(GankitError):
                dcgan_layout(size)
    assert ALLOWED_IMAGE_SIZES == (8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64)


@pytest.mark.parametrize("size", [0, 4, 7, 9, 18, 36, 66, 100, 128, 6.0, True])
def test_refused_sizes_name_the_key_and_the_allowed_sizes(size):
    with pytest.raises(GankitError, match=r"data\.image_size") as info:
        dcgan_layout(size)
    if not isinstance(size, float | bool):
        assert "8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64" in str(info.value)
    with pytest.raises(GankitError, match=r"data\.image_size"):
        DCGANGenerator(4, 1, 9, 4)
    with pytest.raises(GankitError, match=r"data\.image_size"):
        DCGANDiscriminator(1, 100, 4)


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
def test_generator_and_discriminator_shapes(size, channels):
    g = DCGANGenerator(6, channels, size, width=4)
    b, k = dcgan_layout(size)
    convs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(convs) == k + 1
    assert [c.out_channels for c in convs] == [4 * 2 ** (k - 1 - i) for i in range(k)] + [channels]
    x = g(torch.randn(3, 6))
    assert x.shape == (3, channels, size, size)
    assert x.abs().max() <= 1.0
    d = DCGANDiscriminator(channels, size, width=4)
    assert d(x).shape == (3, 1)
    assert d.features(x).shape == (3, 4 * 2 ** (k - 1) * b * b) == (3, d.feature_dim)


@pytest.mark.parametrize("name", list(D_VARIANTS))
def test_discriminator_variants_shapes_and_contract(name):
    kw = D_VARIANTS[name]
    torch.manual_seed(0)
    d = DCGANDiscriminator(3, 16, width=4, **kw)
    pack = kw.get("pack", 1)
    x = images(8, 3, 16)
    f = d.features(x)
    assert f.shape == (8 // pack, d.feature_dim)
    expected_dim = 8 * 4 * 4 + int(kw.get("minibatch_std", False)) + kw.get("minibatch_kernels", 0)
    assert d.feature_dim == kw.get("hidden", expected_dim)
    state = {k: v.clone() for k, v in d.state_dict().items()}
    s = d(x)
    assert s.shape == (8 // pack, 1)
    d.load_state_dict(state)  # the same power-iteration state for spectral norm
    torch.testing.assert_close(d.score(d.features(x)), s)  # forward == score(features)
    if kw.get("identity_classes", 0):
        assert d.identity(f).shape == (8 // pack, kw["identity_classes"])
    else:
        with pytest.raises(GankitError, match="identity head"):
            d.identity(f)
    assert d.pointwise == (not kw.get("minibatch_std") and not kw.get("minibatch_kernels"))
    d.eval()
    assert d(x).shape == (8, 1)  # eval: a packed D scores each image as a pack of its copies


def test_pack_concatenates_consecutive_samples_along_channels():
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 8, width=4, norm="none", pack=3)
    assert d.body[0].in_channels == 3
    x = images(6, 1, 8)
    packed = d._packs(x)
    assert packed.shape == (2, 3, 8, 8)
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(packed[i, j], x[3 * i + j, 0])
    torch.testing.assert_close(packed.flatten(1), pack_samples(x.flatten(1), 3))
    with pytest.raises(GankitError, match=r"model\.pack"):
        d(images(5, 1, 8))
    # eval: image i alone is the pack (i, i, i)
    d.eval()
    torch.testing.assert_close(d(x[:2]), d.train()(x[:2].repeat_interleave(3, 0)))


def test_minibatch_std_is_the_std_of_the_flattened_last_map():
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 8, width=4, norm="none", minibatch_std=True)
    x = images(5, 1, 8)
    f = d.features(x)
    last = d.body(x).flatten(1)
    torch.testing.assert_close(f[:, :-1], last)
    torch.testing.assert_close(f[:, -1:], minibatch_std(last))


def test_wrong_input_shape_refused():
    d = DCGANDiscriminator(3, 16, width=4)
    with pytest.raises(ValueError, match=r"\(n, 3, 16, 16\)"):
        d(images(2, 1, 16))
    with pytest.raises(ValueError, match=r"\(n, 3, 16, 16\)"):
        d(images(2, 3, 8))
    with pytest.raises(ValueError, match="unknown norm"):
        DCGANDiscriminator(3, 16, norm="instance")
    g = DCGANGenerator(5, 3, 16, 4)
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        g(torch.randn(2, 4))


# ----------------------------------------------------------------------------- norms and SN


def test_norm_choices_and_spectral_norm_replaces_batch_norm():
    def kinds(d):
        return {type(m) for m in d.modules()}

    assert nn.BatchNorm2d in kinds(DCGANDiscriminator(1, 32, 4))
    assert nn.GroupNorm in kinds(DCGANDiscriminator(1, 32, 4, norm="layer"))
    none = DCGANDiscriminator(1, 32, 4, norm="none")
    assert not kinds(none) & {nn.BatchNorm2d, nn.GroupNorm}
    assert all(m.bias is not None for m in none.modules() if isinstance(m, nn.Conv2d))
    bn = DCGANDiscriminator(1, 32, 4)
    first, *rest = [m for m in bn.modules() if isinstance(m, nn.Conv2d)]
    assert first.bias is not None and all(m.bias is None for m in rest)  # the norm's shift
    sn = DCGANDiscriminator(1, 32, 4, spectral_norm=True, identity_classes=2)
    assert sn.norm == "none" and nn.BatchNorm2d not in kinds(sn)
    layers = [m for m in sn.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 3 + 2
    assert all(hasattr(m, "parametrizations") for m in layers)
    assert DCGANDiscriminator(1, 32, 4, norm="layer", spectral_norm=True).norm == "layer"


def test_spectral_norm_makes_each_layer_norm_one():
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 16, 4, spectral_norm=True)
    x = images(4, 1, 16)
    for _ in range(30):  # power iterations run in training-mode forwards
        d(x)
    d.eval()
    for m in d.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
            assert sigma == pytest.approx(1.0, abs=1e-3)


# ----------------------------------------------------------------------------- init


def test_initialisation_statistics():
    torch.manual_seed(0)
    g = DCGANGenerator(100, 3, 32, width=64)
    d = DCGANDiscriminator(3, 32, width=64, identity_classes=2)
    for net in (g, d):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                w = m.weight.detach()
                if w.numel() >= 10_000:
                    assert w.std().item() == pytest.approx(0.02, rel=0.05)
                    assert abs(w.mean().item()) < 0.002
                if m.bias is not None:
                    assert torch.all(m.bias == 0)
            if isinstance(m, nn.BatchNorm2d):
                assert m.weight.mean().item() == pytest.approx(1.0, abs=0.01)
                assert 0.01 < m.weight.std().item() < 0.03
                assert torch.all(m.bias == 0)
    # spectrally normalised: the raw weight is drawn
    torch.manual_seed(0)
    sn = DCGANDiscriminator(3, 32, width=64, spectral_norm=True)
    raw = sn.body[2].parametrizations.weight.original.detach()
    assert raw.std().item() == pytest.approx(0.02, rel=0.05)
    init_dcgan_weights(sn)  # works on a parametrised net too
    assert sn.body[2].parametrizations.weight.original.std().item() == pytest.approx(0.02, rel=0.05)


def test_hidden_layers_by_hand():
    """``hidden = h``: G reads z through Linear -> BN -> ReLU before its projection, and D's
    features are LeakyReLU(norm(W [flat map, minibatch std]))."""
    torch.manual_seed(0)
    g = DCGANGenerator(5, 1, 28, width=4, hidden=12)
    assert g.net[0].in_channels == 12 and g.hidden[0].in_features == 5
    g.eval()
    z = torch.randn(3, 5)
    linear, bn = g.hidden[0], g.hidden[1]
    h = torch.relu(bn(z @ linear.weight.T))
    torch.testing.assert_close(g(z), g.net(h[:, :, None, None]))

    d = DCGANDiscriminator(1, 28, width=4, norm="none", minibatch_std=True, hidden=7)
    x = images(6, 1, 28)
    flat = d.body(x).flatten(1)
    std = minibatch_std(flat).expand(6, 1)
    linear = d.hidden[0]
    expected = nn.functional.leaky_relu(
        torch.cat([flat, std], 1) @ linear.weight.T + linear.bias, 0.2
    )
    torch.testing.assert_close(d.features(x), expected)
    assert d.feature_dim == 7 and d.score_head.in_features == 7
    with pytest.raises(ValueError, match="hidden"):
        DCGANDiscriminator(1, 28, width=4, hidden=-1)
    with pytest.raises(ValueError, match="hidden"):
        DCGANGenerator(5, 1, 28, width=4, hidden=-1)


def test_no_hidden_layer_keeps_the_parameters_of_dcgan():
    """``hidden = 0`` adds no parameter: checkpoints of the paper's nets load as they were."""
    for make in (
        lambda h: DCGANGenerator(6, 1, 16, 4, hidden=h),
        lambda h: DCGANDiscriminator(1, 16, 4, hidden=h),
    ):
        plain, with_fc = make(0), make(8)
        assert not any(k.startswith("hidden") for k in plain.state_dict())
        assert any(k.startswith("hidden") for k in with_fc.state_dict())


def test_first_layer_is_a_projection_and_reshape():
    """The kernel-b transposed convolution of z as a 1 x 1 map == a linear map + reshape."""
    torch.manual_seed(0)
    g = DCGANGenerator(5, 1, 28, width=4)
    first = g.net[0]
    z = torch.randn(3, 5)
    w = first.weight  # (noise_dim, C0, b, b)
    torch.testing.assert_close(
        first(z[:, :, None, None]), (z @ w.flatten(1)).reshape(3, *w.shape[1:])
    )


# ----------------------------------------------------------------------------- training


def test_generator_eval_is_deterministic_and_per_sample():
    torch.manual_seed(0)
    g = DCGANGenerator(8, 3, 16, width=4)
    g(torch.randn(16, 8))  # one training-mode pass moves the running statistics
    g.eval()
    z = torch.randn(6, 8)
    a, b = g(z), g(z)
    assert torch.equal(a, b)
    torch.testing.assert_close(g(z[:2]), a[:2])  # no batch statistics in eval mode


@pytest.mark.parametrize("name", list(D_VARIANTS))
def test_r1_double_backward(name):
    torch.manual_seed(0)
    d = DCGANDiscriminator(1, 8, width=4, **D_VARIANTS[name])
    x = images(4, 1, 8).requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    penalty = grad.pow(2).flatten(1).sum(1).mean()
    penalty.backward()
    grads = [p.grad for p in d.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(gr).all() for gr in grads)
    assert any(gr.abs().sum() > 0 for gr in grads)


@pytest.mark.parametrize(
    "d_kw", [{}, {"norm": "none"}, {"norm": "layer"}, {"spectral_norm": True}], ids=str
)
def test_a_few_steps_decrease_each_players_loss(d_kw):
    torch.manual_seed(0)
    g = DCGANGenerator(8, 1, 16, width=8)
    d = DCGANDiscriminator(1, 16, width=8, **d_kw)
    real = 0.1 * images(16, 1, 16)
    real[:, :, 4:12, 4:12] += 0.8  # a bright square on noisy grey
    z = torch.randn(16, 8)
    bce = nn.functional.binary_cross_entropy_with_logits

    def d_loss():
        fake = g(z).detach()
        s_real, s_fake = d(real), d(fake)
        return bce(s_real, torch.ones_like(s_real)) + bce(s_fake, torch.zeros_like(s_fake))

    opt_d = torch.optim.Adam(d.parameters(), lr=5e-3, betas=(0.5, 0.999))
    before = d_loss().item()
    for _ in range(15):
        opt_d.zero_grad()
        d_loss().backward()
        opt_d.step()
    assert d_loss().item() < 0.5 * before

    def g_loss():
        s = d(g(z))
        return bce(s, torch.ones_like(s))  # non-saturating

    d.requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), lr=5e-3, betas=(0.5, 0.999))
    before = g_loss().item()
    for _ in range(15):
        opt_g.zero_grad()
        g_loss().backward()
        opt_g.step()
    assert g_loss().item() < 0.5 * before
