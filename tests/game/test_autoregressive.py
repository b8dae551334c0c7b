"""PixelCNN's likelihood and sampling (`gankit.game.autoregressive`) against independent
computations: the per-pixel Bernoulli log-probability by its formula; a tiny net's
log-likelihood equal to the sum of its conditionals computed one pixel at a time (each from an
input holding only the pixels before it); on 2x2 images, the exact probabilities of all 16
images summing to 1 and the samples' frequencies matching them."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from gankit.game.autoregressive import (
    bernoulli_pixel_log_probs,
    bits_per_dim,
    draw_pixel,
    image_log_likelihood,
    likelihood_stats,
    negative_log_likelihood_loss,
    sample_raster,
)
from gankit.nets.pixelcnn import PixelCNN


def test_pixel_log_probs_by_the_formula():
    logits = torch.tensor([[-2.0, 0.0, 3.0, 30.0]])
    bits = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    want = []
    for z, b in zip(logits[0].tolist(), bits[0].tolist(), strict=True):
        p = 1.0 / (1.0 + math.exp(-z))
        want.append(math.log(p) if b else math.log(1.0 - p))
    torch.testing.assert_close(bernoulli_pixel_log_probs(logits, bits)[0], torch.tensor(want))


def test_bits_per_dim_and_the_loss():
    assert bits_per_dim(784 * math.log(2.0), 784) == pytest.approx(1.0)
    assert bits_per_dim(81.30, 784) == pytest.approx(81.30 / 784 / math.log(2))
    logits = torch.randn(3, 1, 2, 2)
    bits = torch.bernoulli(torch.full((3, 1, 2, 2), 0.5))
    ll = image_log_likelihood(logits, bits)
    assert ll.shape == (3,)
    torch.testing.assert_close(negative_log_likelihood_loss(logits, bits), -ll.mean())
    stats = likelihood_stats(logits, bits)
    torch.testing.assert_close(stats["bits_per_dim"], -ll.mean() / (4 * math.log(2)))


def tiny_net(shape, seed: int, scale: float = 3.0) -> PixelCNN:
    """A small PixelCNN whose weights are scaled up, so that its conditionals are far from 1/2
    and far from each other."""
    torch.manual_seed(seed)
    net = PixelCNN(shape, channels=6, layers=1, kernel=3)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    return net.eval()


def conditional_log_prob(net: PixelCNN, image: torch.Tensor, i: int, j: int) -> float:
    """log p(x_ij | pixels before ij), computed from an input that holds only those pixels
    (every later pixel, its own included, replaced by noise that must not matter)."""
    h, w = image.shape[-2:]
    probe = torch.rand(1, 1, h, w) * 5.0 - 2.0
    for k in range(i * w + j):
        probe[0, 0, k // w, k % w] = image[0, 0, k // w, k % w]
    with torch.no_grad():
        z = float(net(probe)[0, 0, i, j])
    p = 1.0 / (1.0 + math.exp(-z))
    return math.log(p) if image[0, 0, i, j] > 0.5 else math.log(1.0 - p)


def test_the_log_likelihood_is_the_sum_of_the_conditionals_one_pixel_at_a_time():
    net = tiny_net((1, 4, 3), seed=0)
    torch.manual_seed(1)
    for _ in range(3):
        image = torch.bernoulli(torch.full((1, 1, 4, 3), 0.5))
        by_pixel = sum(conditional_log_prob(net, image, i, j) for i in range(4) for j in range(3))
        with torch.no_grad():
            whole = float(image_log_likelihood(net(image), image)[0])
        assert whole == pytest.approx(by_pixel, abs=1e-4)


def all_images(h: int, w: int) -> torch.Tensor:
    """Every {0, 1} image of ``h`` x ``w`` pixels, ``(2^(h w), 1, h, w)``."""
    rows = list(itertools.product([0.0, 1.0], repeat=h * w))
    return torch.tensor(rows).reshape(-1, 1, h, w)


def test_on_2x2_images_the_probabilities_sum_to_one_and_samples_follow_them():
    net = tiny_net((1, 2, 2), seed=3)
    images = all_images(2, 2)
    with torch.no_grad():
        probs = image_log_likelihood(net(images), images).double().exp()
    assert float(probs.sum()) == pytest.approx(1.0, abs=1e-6)
    assert float(probs.max()) > 2.0 / 16  # far from uniform: the test can tell them apart
    n = 40_000
    bits, means = sample_raster(net, n, (1, 2, 2), torch.Generator().manual_seed(0))
    index = (bits.reshape(n, 4) * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(1).long()
    freq = torch.bincount(index, minlength=16).double() / n
    sd = (probs * (1 - probs) / n).sqrt()
    assert ((freq - probs).abs() <= 5 * sd + 1e-4).all(), (freq, probs)
    with torch.no_grad():  # each mean is the pixel's probability given the bits before it
        torch.testing.assert_close(means, torch.sigmoid(net(bits)))


def test_cropped_sampling_draws_what_the_full_image_would():
    net = tiny_net((1, 9, 7), seed=5, scale=1.5)
    assert net.reach == 2
    full = sample_raster(net, 50, (1, 9, 7), torch.Generator().manual_seed(7))
    cropped = sample_raster(net, 50, (1, 9, 7), torch.Generator().manual_seed(7), net.reach)
    torch.testing.assert_close(cropped[0], full[0])
    torch.testing.assert_close(cropped[1], full[1])


def test_draw_pixel_is_a_bernoulli_draw_from_the_generator():
    logits = torch.full((20_000,), math.log(0.3 / 0.7))
    bits, p = draw_pixel(logits, torch.Generator().manual_seed(0))
    torch.testing.assert_close(p, torch.full_like(p, 0.3))
    assert float(bits.mean()) == pytest.approx(0.3, abs=0.015)
    again, _ = draw_pixel(logits, torch.Generator().manual_seed(0))
    assert torch.equal(bits, again)
