"""DiffAugment's transforms against hand computations, their randomness (a torch.Generator
only) and their gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.game.augment import (
    POLICIES,
    DiffAugment,
    adjust_colour,
    colour,
    cut_out,
    cutout,
    cutout_centres,
    diff_augment,
    parse_policy,
    translate,
    translation,
    translation_offsets,
)

ALL = "colour,translation,cutout"


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def clone(g: torch.Generator) -> torch.Generator:
    twin = torch.Generator()
    twin.set_state(g.get_state())
    return twin


def images(n=4, c=3, h=16, w=16, seed=0, dtype=torch.float32) -> torch.Tensor:
    return (torch.rand(n, c, h, w, generator=gen(seed), dtype=dtype) * 2 - 1).to(dtype)


# ----------------------------------------------------------------------------- policies


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("policy", ["colour", "color", "translation", "cutout", ALL])
def test_shape_and_dtype_unchanged(policy, channels, dtype):
    x = images(c=channels, h=12, w=10, dtype=dtype)
    y = diff_augment(x, policy, gen())
    assert y.shape == x.shape and y.dtype == dtype
    assert not torch.equal(y, x)


def test_empty_policy_is_the_identity():
    x = images()
    g = gen()
    before = g.get_state()
    assert diff_augment(x, "", g) is x
    assert diff_augment(x, " , ", g) is x
    assert torch.equal(g.get_state(), before)  # nothing drawn
    aug = DiffAugment("", g)
    assert not aug and aug(x) is x


def test_policy_names_order_and_unknown():
    assert list(POLICIES) == ["colour", "translation", "cutout"]
    assert parse_policy("cutout, color,translation,colour") == ("colour", "translation", "cutout")
    assert parse_policy("") == ()
    with pytest.raises(ValueError, match="known: colour, translation, cutout") as info:
        parse_policy("colour,flip")
    assert "'flip'" in str(info.value)
    with pytest.raises(ValueError, match="unknown augmentation"):
        DiffAugment("translate", gen())
    x = images()
    torch.testing.assert_close(
        diff_augment(x, "cutout,translation,color", gen(3)), diff_augment(x, ALL, gen(3))
    )


def test_same_generator_state_same_output_and_no_global_rng():
    x = images()
    torch.manual_seed(123)
    global_state = torch.get_rng_state()
    a = diff_augment(x, ALL, gen(7))
    b = diff_augment(x, ALL, gen(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, diff_augment(x, ALL, gen(8)))
    assert torch.equal(torch.get_rng_state(), global_state)


# ----------------------------------------------------------------------------- gradients


def test_gradcheck_float64_all_transforms():
    x = images(n=2, c=3, h=6, w=6, dtype=torch.float64).requires_grad_(True)

    def f(inp):
        return diff_augment(inp, ALL, gen(5))  # the same draws at every call

    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-6)


def test_gradient_flows_except_where_cut_out():
    x = images(n=3, c=3).requires_grad_(True)
    y = cutout(x, gen(1))
    y.sum().backward()
    kept = cutout(torch.ones_like(x), gen(1))  # 1 outside the square, 0 inside
    assert torch.equal(x.grad, kept)
    assert (x.grad == 0).any() and (x.grad == 1).any()
    x.grad = None
    y = diff_augment(x, ALL, gen(2))
    (y * torch.randn(y.shape, generator=gen(9))).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


# ----------------------------------------------------------------------------- translation


def shift_by_hand(x: np.ndarray, dh: int, dw: int) -> np.ndarray:
    c, h, w = x.shape
    out = np.zeros_like(x)
    for r in range(h):
        for col in range(w):
            if 0 <= r - dh < h and 0 <= col - dw < w:
                out[:, r, col] = x[:, r - dh, col - dw]
    return out


def test_translate_by_known_offsets_equals_a_hand_shift():
    x = images(n=4, c=2, h=7, w=9)
    dh, dw = torch.tensor([0, 2, -3, 7]), torch.tensor([1, -1, 0, -9])
    y = translate(x, dh, dw)
    for i in range(4):
        expected = shift_by_hand(x[i].numpy(), int(dh[i]), int(dw[i]))
        np.testing.assert_array_equal(y[i].numpy(), expected)
    assert torch.equal(y[3], torch.zeros_like(y[3]))  # shifted entirely out: all padding


def test_translation_draws_offsets_within_the_ratio():
    x = images(n=400, c=1, h=16, w=24)
    g = gen(4)
    dh, dw = translation_offsets(x, clone(g), ratio=0.125)
    torch.testing.assert_close(translation(x, g), translate(x, dh, dw))
    # round(0.125 * 16) = 2, round(0.125 * 24) = 3: every offset in range is drawn
    assert set(dh.tolist()) == set(range(-2, 3))
    assert set(dw.tolist()) == set(range(-3, 4))
    assert len({(a, b) for a, b in zip(dh.tolist(), dw.tolist())}) > 30  # per image


# ----------------------------------------------------------------------------- cutout


def test_cut_out_zeroes_exactly_the_square():
    x = torch.ones(2, 3, 16, 16)
    y = cut_out(x, torch.tensor([8, 5]), torch.tensor([6, 10]), 8, 8)
    expected = torch.ones(2, 3, 16, 16)
    expected[0, :, 4:12, 2:10] = 0
    expected[1, :, 1:9, 6:14] = 0
    assert torch.equal(y, expected)
    # clipped at the border
    y = cut_out(x[:1], torch.tensor([1]), torch.tensor([15]), 8, 8)
    assert (y == 0).sum().item() == 3 * 5 * 5


@pytest.mark.parametrize("size", [16, 15, 6])
def test_random_cutout_is_a_square_of_the_expected_area(size):
    n = 300
    x = torch.ones(n, 1, size, size)
    g = gen(6)
    ch, cw = cutout_centres(x, clone(g))
    y = cutout(x, g)
    side = int(size * 0.5 + 0.5)
    hi = size if side % 2 == 0 else size - 1
    assert ch.min() == 0 and ch.max() == hi and cw.min() == 0 and cw.max() == hi
    interior = 0
    for i in range(n):
        zero = (y[i, 0] == 0).nonzero()
        top, left = zero.min(0).values.tolist()
        bottom, right = zero.max(0).values.tolist()
        box = y[i, 0, top : bottom + 1, left : right + 1]
        assert (box == 0).all() and len(zero) == box.numel()  # one rectangle
        assert (top, left) == (max(0, int(ch[i]) - side // 2), max(0, int(cw[i]) - side // 2))
        if all(side // 2 <= int(c) <= size - (side - side // 2) for c in (ch[i], cw[i])):
            interior += 1
            assert len(zero) == side * side  # away from the borders: the whole square
    assert interior > 10


# ----------------------------------------------------------------------------- colour


def colour_by_hand(x: np.ndarray, b: float, s: float | None, c: float) -> np.ndarray:
    x = x + b
    if s is not None:
        m = x.mean(0, keepdims=True)
        x = (x - m) * s + m
    m = x.mean()
    return (x - m) * c + m


def test_adjust_colour_by_hand():
    x = images(n=2, c=3, h=5, w=4, dtype=torch.float64)
    b, s, c = torch.tensor([0.3, -0.2]), torch.tensor([1.7, 0.1]), torch.tensor([0.6, 1.4])
    y = adjust_colour(x, b.double(), s.double(), c.double())
    for i in range(2):
        expected = colour_by_hand(x[i].numpy(), float(b[i]), float(s[i]), float(c[i]))
        np.testing.assert_allclose(y[i].numpy(), expected, rtol=1e-12, atol=1e-12)


def test_colour_draws_brightness_saturation_contrast_per_image():
    x = images(n=5, c=3, dtype=torch.float64)
    g = gen(11)
    twin = clone(g)
    b = torch.rand(5, generator=twin) - 0.5
    s = torch.rand(5, generator=twin) * 2
    c = torch.rand(5, generator=twin) + 0.5
    torch.testing.assert_close(colour(x, g), adjust_colour(x, b.double(), s.double(), c.double()))
    assert torch.equal(g.get_state(), twin.get_state())


def test_colour_on_one_channel_skips_saturation():
    x = images(n=5, c=1, dtype=torch.float64)
    g = gen(11)
    twin = clone(g)
    b = torch.rand(5, generator=twin) - 0.5  # no saturation draw in between
    c = torch.rand(5, generator=twin) + 0.5
    y = colour(x, g)
    torch.testing.assert_close(y, adjust_colour(x, b.double(), None, c.double()))
    for i in range(5):
        expected = colour_by_hand(x[i].numpy(), float(b[i]), None, float(c[i]))
        np.testing.assert_allclose(y[i].numpy(), expected, rtol=1e-6, atol=1e-6)
    assert torch.equal(g.get_state(), twin.get_state())


# ----------------------------------------------------------------------------- DiffAugment


def test_diff_augment_applies_the_same_policy_to_real_and_fake():
    torch.manual_seed(0)
    real = images(n=4, seed=1)
    net = torch.nn.Conv2d(3, 3, 1)
    fake = torch.tanh(net(images(n=4, seed=2)))  # "G's output", attached to its weights
    g = gen(3)
    twin = clone(g)
    aug = DiffAugment("color,translation,cutout", g)
    assert aug.policy == ALL and aug
    out_real, out_fake = aug(real), aug(fake)
    # the same policy, drawn independently per batch from the one stream, in call order
    torch.testing.assert_close(out_real, diff_augment(real, ALL, twin))
    torch.testing.assert_close(out_fake, diff_augment(fake, ALL, twin))
    # independent draws: the same batch twice is augmented differently
    assert not torch.equal(aug(real), aug(real))
    # G's gradient flows through the augmentation of its samples
    out_fake.sum().backward()
    assert net.weight.grad is not None and net.weight.grad.abs().sum() > 0


# ----------------------------------------------------------------------------- probability p


def test_probability_applies_each_transform_to_the_images_its_draws_choose():
    """p < 1, written from the definition: each transform's own draws, then (n,) U[0, 1)
    draws from the same stream; image i gets the transform where its draw is below p."""
    x, p = images(n=64, c=1, h=8, w=8), 0.6
    g = gen(4)
    twin = clone(g)
    y = diff_augment(x, "translation,cutout", g, p)
    expected = x.clone()
    for transform in (translation, cutout):
        augmented = transform(expected, twin)
        reached = torch.rand(64, generator=twin) < p
        expected = torch.where(reached[:, None, None, None], augmented, expected)
    assert torch.equal(y, expected)
    assert torch.equal(g.get_state(), twin.get_state())  # nothing else drawn


def test_probability_one_is_diffaugment_as_published_and_draws_nothing_more():
    x = images()
    g, twin = gen(6), gen(6)
    assert torch.equal(diff_augment(x, ALL, g, 1.0), diff_augment(x, ALL, twin))
    assert torch.equal(g.get_state(), twin.get_state())


def test_probability_reaches_its_share_of_images_and_keeps_the_gradient():
    x = images(n=4000, c=1, h=8, w=8).requires_grad_(True)
    y = diff_augment(x, "cutout", gen(2), 0.3)
    changed = (y != x).flatten(1).any(1).float().mean().item()
    # cutout changes every image it reaches (a quarter of its pixels, none already 0)
    assert abs(changed - 0.3) < 4 * (0.3 * 0.7 / 4000) ** 0.5
    y.sum().backward()
    untouched = (y == x).flatten(1).all(1)
    assert torch.equal(x.grad[untouched], torch.ones_like(x.grad[untouched]))


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, float("nan"), True, "0.5"])
def test_probability_outside_zero_one_is_refused(p):
    with pytest.raises(ValueError, match="must be in \\(0, 1\\]"):
        diff_augment(images(), ALL, gen(), p)
    with pytest.raises(ValueError, match="must be in \\(0, 1\\]"):
        DiffAugment(ALL, gen(), p)
