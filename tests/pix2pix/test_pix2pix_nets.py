"""pix2pix's nets: the PatchGAN's receptive field (by formula and by the gradient of one score
with respect to the input), the U-Net's skip connections (shapes at 8x8 and 28x28), and its
dropout, on at test time."""

from __future__ import annotations

import pytest
import torch

from gankit.errors import GankitError
from gankit.nets.patchgan import PatchDiscriminator, conv_layers, receptive_field
from gankit.nets.unet import UNetGenerator, halvings, kept_dropout


def test_receptive_field_formula_against_hand_values():
    assert receptive_field([(3, 1, 1)]) == 3
    assert receptive_field([(3, 2, 1), (3, 1, 1)]) == 1 + 2 + 2 * 2
    # the paper's 70x70 PatchGAN: three 4x4 stride-2 convolutions, two 4x4 stride-1
    assert receptive_field([(4, 2, 1)] * 3 + [(4, 1, 1)] * 2) == 70
    assert receptive_field([(3, 1, 2)]) == 5  # dilation 2


@pytest.mark.parametrize("downs", [0, 1, 2, 3])
def test_patchgan_receptive_field_formula_matches_the_gradient_of_one_score(downs):
    torch.manual_seed(0)
    d = PatchDiscriminator(1, width=4, downs=downs).double()
    expected = 2 ** (downs + 2) - 1
    assert d.receptive_field == expected == receptive_field(conv_layers(d))
    side = 64  # large enough that a central score's field lies inside the image
    source = torch.randn(1, 1, side, side, dtype=torch.double, requires_grad=True)
    image = torch.randn(1, 1, side, side, dtype=torch.double, requires_grad=True)
    scores = d(source, image)
    h, w = scores.shape[-2:]
    scores[0, 0, h // 2, w // 2].backward()
    for grad in (source.grad, image.grad):  # D reads the input and the output alike
        rows = torch.nonzero(grad[0, 0].abs().sum(1)).flatten()
        cols = torch.nonzero(grad[0, 0].abs().sum(0)).flatten()
        assert rows.max() - rows.min() + 1 == expected
        assert cols.max() - cols.min() + 1 == expected


def test_patchgan_scores_patches_of_the_paired_images():
    d = PatchDiscriminator(1, width=8, downs=1)
    assert d(torch.zeros(5, 1, 8, 8), torch.zeros(5, 1, 8, 8)).shape == (5, 1, 4, 4)
    d2 = PatchDiscriminator(1, width=8, downs=2)
    assert d2(torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 28, 28)).shape == (2, 1, 7, 7)


@pytest.mark.parametrize(
    ("side", "levels", "sizes"),
    [(8, 2, [2, 4, 8]), (28, 2, [7, 14, 28]), (32, 4, [2, 4, 8, 16, 32])],
)
def test_unet_skip_connections_join_maps_of_the_same_size(side, levels, sizes):
    torch.manual_seed(0)
    g = UNetGenerator((1, side, side), width=8)
    assert halvings(side, side) == levels == g.levels
    x = torch.rand(3, 1, side, side) * 2 - 1
    out, pairs = g.skip_pairs(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.abs().max() <= 1
    assert len(pairs) == levels + 1
    for (skip, decoded), size in zip(pairs, sizes, strict=True):
        assert skip.shape[0] == decoded.shape[0] == 3
        assert skip.shape[-2:] == decoded.shape[-2:] == (size, size)
        assert skip.shape[1] == decoded.shape[1]  # the two halves the next layer reads
    # each decoder layer reads exactly the concatenation of its pair's channels
    reads = [up[0].in_channels for up in g.ups] + [g.head[0].in_channels]
    assert reads == [s.shape[1] + d.shape[1] for s, d in pairs]


def test_the_full_size_skip_carries_the_input_to_the_output():
    """With every layer below full size zeroed (the deep path cut), the output still reads the
    input through the full-size skip, and only within the stem's and head's 3x3 reach (5x5)."""
    torch.manual_seed(0)
    g = UNetGenerator((1, 8, 8), width=8, dropout=0.0).eval()
    with torch.no_grad():
        for part in (g.downs, g.bottleneck, g.ups):
            for p in part.parameters():
                p.zero_()
    x = torch.zeros(1, 1, 8, 8, requires_grad=True)
    g(x)[0, 0, 4, 4].backward()
    reach = x.grad[0, 0].abs() > 0
    assert reach[2:7, 2:7].any() and not reach[:2].any() and not reach[7:].any()
    assert not reach[:, :2].any() and not reach[:, 7:].any()


def test_dropout_stays_on_in_eval_mode_and_follows_its_generator():
    torch.manual_seed(0)
    g = UNetGenerator((1, 8, 8), width=8, dropout=0.5).eval()
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        a = g(x, torch.Generator().manual_seed(1))
        b = g(x, torch.Generator().manual_seed(2))
        a_again = g(x, torch.Generator().manual_seed(1))
    assert not torch.equal(a, b)  # sampling twice differs
    assert torch.equal(a, a_again)  # the same stream, the same translation
    still = UNetGenerator((1, 8, 8), width=8, dropout=0.0).eval()
    with torch.no_grad():
        assert torch.equal(still(x, torch.Generator().manual_seed(1)), still(x))


def test_kept_dropout_keeps_the_expectation():
    h = torch.ones(200_000)
    out = kept_dropout(h, 0.5, torch.Generator().manual_seed(0))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert out.mean().item() == pytest.approx(1.0, abs=0.01)


def test_a_unet_refuses_sizes_it_cannot_halve():
    with pytest.raises(GankitError, match="7x7"):
        UNetGenerator((1, 7, 7))
    with pytest.raises(GankitError, match="pix2pix.dropout"):
        UNetGenerator((1, 8, 8), dropout=1.0)
