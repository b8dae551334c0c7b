"""Binarisation: its two conventions, the held-out set's fixed bits, and the round trip."""

import pytest
import torch

from gankit.data.binarize import binarize, binarize_heldout, from_binary, to_unit_interval


def test_threshold_is_intensity_above_half():
    x = torch.tensor([-1.0, -0.2, 0.0, 0.2, 1.0])  # intensities 0, 0.4, 0.5, 0.6, 1
    assert binarize(x, "threshold").tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_stochastic_pixels_are_on_at_their_intensity():
    x = torch.full((200_000,), 0.5)  # intensity 0.75
    bits = binarize(x, "stochastic", torch.Generator().manual_seed(0))
    assert set(bits.unique().tolist()) == {0.0, 1.0}
    assert abs(bits.mean().item() - 0.75) < 0.005
    assert binarize(torch.tensor([-1.0, 1.0]), "stochastic").tolist() == [0.0, 1.0]


def test_heldout_bits_are_the_same_on_every_call():
    x = torch.rand(64, 1, 8, 8) * 2 - 1
    assert torch.equal(binarize_heldout(x), binarize_heldout(x))
    assert not torch.equal(binarize_heldout(x), binarize(x, "stochastic"))


def test_round_trip_and_bad_mode():
    bits = torch.tensor([0.0, 1.0])
    assert torch.equal(to_unit_interval(from_binary(bits)), bits)
    with pytest.raises(ValueError, match="binarization"):
        binarize(torch.zeros(1), "round")
