"""BiGAN's encoder metrics (`gankit.recipes.bigan.evaluation`) on cases with known answers: an
identity G(E(x)) = x reconstructs with no error and agrees with x's label exactly as often as
the feature net labels the real images right; a G that maps every code to one image agrees at
that image's class share; an E that is the pixels probes as the pixels; the probe separates
separable classes and reads nothing in shuffled labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gankit import config as config_mod
from gankit.data.sources import build_data
from gankit.eval.feature_space import resolve_feature_space
from gankit.metrics.features import extract_features
from gankit.recipes.bigan.evaluation import (
    ImageMeasures,
    ToyMeasures,
    classifier_agreement,
    linear_probe_accuracy,
)


class Flatten(nn.Module):
    """E(x) = x as a 64-dimensional code (8x8 digits)."""

    z_dim = 64

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x.flatten(1)


class Unflatten(nn.Module):
    """G(z) = z as an 8x8 image; ``constant``: every code to that one image instead."""

    def __init__(self, constant=None):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))
        self.constant = constant

    def forward(self, z):
        if self.constant is not None:
            return self.constant.expand(z.shape[0], -1, -1, -1)
        return z.view(-1, 1, 8, 8)


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    config = config_mod.resolve("bigan-digits")
    data = build_data(config)
    space = resolve_feature_space(config, data)
    return data, space


def test_identity_reconstruction_agrees_as_the_classifier_is_accurate(digits):
    data, space = digits
    measures = ImageMeasures(data, lambda: space, probe_train=500)
    out = measures(Unflatten(), Flatten(), None)
    assert out["reconstruction_l2"] == pytest.approx(0.0, abs=1e-10)
    held = data.heldout
    real = torch.from_numpy(held.images).float()
    real = real / 255.0 if held.images.dtype == np.uint8 else real
    accuracy = classifier_agreement(space, real, held.labels)
    assert out["reconstruction_agreement"] == pytest.approx(accuracy)
    assert out["reconstruction_agreement_real"] == pytest.approx(accuracy)
    assert accuracy > 0.95
    # E(x) = 2 x - 1 is the pixels up to an affine map, which the probe's standardisation undoes
    assert out["linear_probe_accuracy_encoder"] == pytest.approx(
        out["linear_probe_accuracy_pixels"], abs=0.01
    )
    assert out["linear_probe_accuracy_pixels"] > 0.85


def test_a_constant_reconstruction_agrees_at_its_class_share(digits):
    data, space = digits
    held = data.heldout
    first = torch.from_numpy(held.images[:1]).float()
    first = first / 255.0 if held.images.dtype == np.uint8 else first
    label = int(extract_features(first, space.extractor)[1].argmax(1)[0])
    constant = first * 2 - 1
    out = ImageMeasures(data, lambda: space, probe_train=500)(Unflatten(constant), Flatten(), 100)
    assert out["reconstruction_agreement"] == pytest.approx(
        float((np.asarray(held.labels[:100]) == label).mean())
    )
    real = first.expand(100, -1, -1, -1)
    images = torch.from_numpy(held.images[:100]).float()
    images = images / 255.0 if held.images.dtype == np.uint8 else images
    assert out["reconstruction_l2"] == pytest.approx(float(((images - real) ** 2).mean()), rel=1e-5)


def test_the_probe_separates_separable_classes_and_not_shuffled_ones():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    features = np.eye(3)[labels] * 4 + rng.normal(size=(600, 3))
    train, test = slice(0, 400), slice(400, 600)
    assert (
        linear_probe_accuracy(features[train], labels[train], features[test], labels[test]) > 0.95
    )
    shuffled = rng.permutation(labels)
    chance = linear_probe_accuracy(features[train], shuffled[train], features[test], shuffled[test])
    assert chance < 0.5


def test_toy_reconstruction_error_of_the_identity_is_zero_and_of_zero_is_the_second_moment():
    config = config_mod.resolve("bigan-ring-8")
    data = build_data(config)

    class Same(nn.Module):
        z_dim = 2

        def __init__(self, scale=1.0):
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(1))
            self.scale = scale

        def forward(self, x):
            return x * self.scale

    measures = ToyMeasures(data)
    assert measures(Same(), Same(), None)["reconstruction_l2"] == pytest.approx(0.0)
    second = float((measures.points**2).mean())
    assert measures(Same(0.0), Same(), None)["reconstruction_l2"] == pytest.approx(second)
