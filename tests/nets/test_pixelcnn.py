"""PixelCNN's masks are causal in raster order (van den Oord et al. 2016, sec. 3.4): checked by
hand on the masks and by gradients on whole nets -- an output never depends on its own pixel
(mask A) nor on any later one, and does depend on earlier ones; sampling's window computes
exactly what the full image does, and is tight."""

from __future__ import annotations

import pytest
import torch

from gankit.nets.pixelcnn import MaskedConv2d, PixelCNN, causal_mask


def test_masks_by_hand():
    assert causal_mask(3, "A").tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert causal_mask(3, "B").tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    a5 = causal_mask(5, "A")
    assert a5[:2].sum() == 10 and a5[2].tolist() == [1, 1, 0, 0, 0] and a5[3:].sum() == 0
    assert causal_mask(1, "A").tolist() == [[0.0]] and causal_mask(1, "B").tolist() == [[1.0]]
    for bad in ((4, "A"), (3, "C")):
        with pytest.raises(ValueError):
            causal_mask(*bad)


def test_masked_weights_never_act_and_get_no_gradient():
    torch.manual_seed(0)
    conv = MaskedConv2d(2, 3, 3, "A")
    x = torch.randn(4, 2, 5, 5)
    plain = torch.nn.functional.conv2d(x, conv.weight * conv.mask, conv.bias, padding=1)
    torch.testing.assert_close(conv(x), plain)
    conv(x).sum().backward()
    assert (conv.weight.grad * (1 - conv.mask)).abs().max() == 0


def input_gradient(net: PixelCNN, x: torch.Tensor, i: int, j: int) -> torch.Tensor:
    """``(H, W)``: |d logit(i, j) / d input|, summed over the batch's images (one image alone
    may leave every ReLU of a path off)."""
    x = x.clone().requires_grad_(True)
    net(x)[:, 0, i, j].sum().backward()
    return x.grad[:, 0].abs().sum(0)


@pytest.mark.parametrize("kernel, layers", [(7, 3), (3, 0), (5, 2)])
def test_every_output_depends_on_earlier_pixels_only(kernel, layers):
    torch.manual_seed(1)
    net = PixelCNN((1, 6, 5), channels=8, layers=layers, kernel=kernel)
    x = torch.rand(8, 1, 6, 5)  # grey inputs: every pixel moves the output
    h, w = 6, 5
    for i in range(h):
        for j in range(w):
            grad = input_gradient(net, x, i, j).reshape(-1)
            p = i * w + j
            assert grad[p:].max() == 0, (i, j)  # its own pixel (mask A) and every later one
            if p > 0:
                assert grad[:p].max() > 0, (i, j)


def test_a_net_without_mask_a_would_fail_the_check():
    """The gradient check can fail: an unmasked first layer sees its own pixel."""
    torch.manual_seed(1)
    net = PixelCNN((1, 4, 4), channels=8, layers=1, kernel=3)
    net.first.mask.fill_(1.0)
    grad = input_gradient(net, torch.rand(8, 1, 4, 4), 1, 1)
    assert grad[1, 1] > 0 and grad[2:].max() > 0


def test_the_reach_is_all_an_output_reads():
    """The window sampling crops to (``reach`` rows above, ``reach`` columns either side)
    gives the full image's logits, and its far row and columns are read: the crop is tight."""
    torch.manual_seed(2)
    net = PixelCNN((1, 12, 13), channels=16, layers=2, kernel=5)
    assert net.reach == 2 + 2
    x = torch.bernoulli(torch.full((3, 1, 12, 13), 0.4))
    full = net(x)
    r = net.reach
    for i in range(r, 12):
        for j in range(r, 13 - r):
            crop = net(x[:, :, i - r : i + 1, j - r : j + r + 1])
            torch.testing.assert_close(crop[:, :, -1, r], full[:, :, i, j])
    grad = input_gradient(net, torch.rand(8, 1, 12, 13), 9, 6)
    assert grad[9 - r].max() > 0 and grad[: 9 - r].max() == 0
    assert grad[:, 6 - r].max() > 0 and grad[:, 6 + r].max() > 0
    assert grad[:, : 6 - r].max() == 0 and grad[:, 6 + r + 1 :].max() == 0


def test_colour_images_are_refused():
    with pytest.raises(ValueError, match="single-channel"):
        PixelCNN((3, 8, 8))
