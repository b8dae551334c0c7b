"""pix2pix's objective (`gankit.game.pix2pix`) against hand-computed values, and the paired
tasks (`gankit.data.paired`) against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.data.batch import Batch
from gankit.data.paired import (
    PairedSource,
    edge_map,
    lower_half_blanked,
    sobel_magnitude,
    task_input,
)
from gankit.errors import GankitError
from gankit.game.losses import get_loss
from gankit.game.pix2pix import discriminator_objective, generator_objective, l1_term


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_l1_term_is_the_mean_absolute_error():
    a = torch.tensor([[0.0, 1.0], [-1.0, 0.5]])
    b = torch.tensor([[0.5, 1.0], [1.0, 0.0]])
    assert l1_term(a, b).item() == pytest.approx((0.5 + 0 + 2 + 0.5) / 4)


def test_discriminator_objective_is_half_the_loss_over_every_patch():
    real = torch.tensor([[[[1.0, -2.0]]]])  # (1, 1, 1, 2): two patches
    fake = torch.tensor([[[[0.5, 0.0]]]])
    nonsat = discriminator_objective(get_loss("nonsaturating"), real, fake)
    expected = 0.5 * ((softplus(-1.0) + softplus(2.0)) / 2 + (softplus(0.5) + softplus(0.0)) / 2)
    assert nonsat.item() == pytest.approx(expected)
    hinge = discriminator_objective(get_loss("hinge"), real, fake)
    assert hinge.item() == pytest.approx(0.5 * ((0.0 + 3.0) / 2 + (1.5 + 1.0) / 2))


def test_generator_objective_adds_lambda_times_l1_to_the_adversarial_term():
    fake_scores = torch.tensor([0.0, 1.0], requires_grad=True)
    translated = torch.tensor([0.0, 0.0, 1.0, 1.0])
    target = torch.tensor([0.5, 0.0, 1.0, -1.0])
    loss, parts = generator_objective(
        get_loss("nonsaturating"), fake_scores, translated, target, 100.0
    )
    adv = (softplus(0.0) + softplus(-1.0)) / 2
    l1 = (0.5 + 0 + 0 + 2) / 4
    assert parts["g_adv"].item() == pytest.approx(adv)
    assert parts["l1"].item() == pytest.approx(l1)
    assert loss.item() == pytest.approx(adv + 100 * l1)
    loss.backward()  # G's adversarial gradient flows through the generated side's scores
    expected = [-1 / (1 + math.exp(0.0)) / 2, -1 / (1 + math.exp(1.0)) / 2]
    assert fake_scores.grad.tolist() == pytest.approx(expected)


def test_the_l1_only_ablation_has_no_adversarial_term():
    translated, target = torch.zeros(3), torch.tensor([1.0, -1.0, 0.0])
    loss, parts = generator_objective(None, None, translated, target, 10.0)
    assert loss.item() == pytest.approx(10 * 2 / 3) and set(parts) == {"l1"}


def test_lower_half_is_blanked_to_the_background_and_the_upper_half_kept():
    x = torch.rand(2, 1, 7, 5) * 2 - 1
    out = lower_half_blanked(x)
    assert torch.equal(out[..., :3, :], x[..., :3, :])  # rows 0-2 of 7 kept
    assert torch.all(out[..., 3:, :] == -1.0)  # rows 3-6 blank (the larger half)
    assert torch.equal(x, x.clone())  # the input untouched


def test_sobel_magnitude_against_a_hand_computed_step_edge():
    # a vertical step: columns 0-1 at 0, columns 2-3 at 1 (in [0, 1])
    img = torch.tensor([[0.0, 0.0, 1.0, 1.0]] * 4).reshape(1, 1, 4, 4)
    mag = sobel_magnitude(img)[0, 0]
    # interior rows: gx at column 1 = (1*1 + 2*1 + 1*1) - 0 = 4, at column 2 = 4 as well
    # (its right neighbours are 1, its left 0); gy = 0 there
    assert mag[1, 1].item() == pytest.approx(4.0) and mag[1, 2].item() == pytest.approx(4.0)
    # column 3 sees zero padding on its right: gx = 0 - (1 + 2 + 1) = -4, |.| = 4
    assert mag[1, 3].item() == pytest.approx(4.0)
    assert mag[1, 0].item() == pytest.approx(0.0)
    # row 0, column 1 (the row above is zero padding): gx = 2*1 + 1*1 = 3 (its own row and the
    # one below, right neighbour 1); gy = (0 + 2*0 + 1*1) below minus 0 above = 1
    assert mag[0, 1].item() == pytest.approx(math.hypot(3.0, 1.0))


def test_edge_map_spans_minus_one_to_one_and_a_flat_image_has_no_edge():
    x = torch.full((2, 1, 8, 8), -1.0)
    x[0, :, 2:6, 2:6] = 1.0
    edges = edge_map(x)
    assert edges[0].max().item() == pytest.approx(1.0) and edges[0].min().item() == -1.0
    assert torch.all(edges[1] == -1.0)  # the blank image: no edge anywhere


def test_paired_source_pairs_each_target_with_its_task_input_and_keeps_labels():
    class Fixed:
        shape, num_classes = (1, 4, 4), 2

        def batch(self, n, generator=None):
            x = torch.rand(n, 1, 4, 4, generator=generator) * 2 - 1
            return Batch(x, y=torch.arange(n) % 2)

    source = PairedSource(Fixed(), "lower-half")
    b = source.batch(3, torch.Generator().manual_seed(0))
    assert torch.equal(b.source_x, lower_half_blanked(b.x)) and b.y.tolist() == [0, 1, 0]
    again = Fixed().batch(3, torch.Generator().manual_seed(0))
    assert torch.equal(again.x, b.x)  # it draws exactly what the wrapped source draws
    with pytest.raises(GankitError, match="pix2pix.task: 'blur'"):
        task_input("blur", b.x)


def test_a_batch_without_a_paired_input_is_the_batch_it_was():
    b = Batch(torch.zeros(2, 3), y=torch.arange(2))
    assert b.source_x is None and b.to("cpu").source_x is None
    with pytest.raises(ValueError, match="Batch.source_x: 1 rows, but x has 2"):
        Batch(torch.zeros(2, 3), source_x=torch.zeros(1, 3))
