"""InfoGAN's code metrics (`gankit.recipes.infogan.evaluation`) on stand-ins whose answers are
known: a "generator" that draws, for code k, real held-out digits of class ``perm[k]``, and a Q
that reads the class of a real digit back as the code ``perm^-1[class]`` (or a wrong one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import gankit.recipes  # noqa: F401  (registers the [infogan] section)
from gankit import config as config_mod
from gankit.data.checks import to_net
from gankit.data.sources import build_data
from gankit.eval.feature_space import resolve_feature_space
from gankit.recipes.infogan.evaluation import code_metrics

PERM = np.array([3, 7, 0, 9, 1, 5, 8, 2, 6, 4])  # code k draws class PERM[k]


class ClassGenerator(nn.Module):
    """``G(z, code, c')``: for code k, the held-out digits of class ``PERM[k]`` in turn."""

    def __init__(self, images: torch.Tensor, labels: np.ndarray):
        super().__init__()
        self.by_class = [images[labels == c] for c in range(10)]
        self.weight = nn.Parameter(torch.zeros(1))  # a parameter, as a net has
        self.drawn = [0] * 10

    def forward(self, z, code, cont):
        out = []
        for k in code.tolist():
            pool = self.by_class[PERM[k]]
            out.append(pool[self.drawn[k] % len(pool)])
            self.drawn[k] += 1
        return torch.stack(out)


class Body(nn.Module):
    """D's stand-in: its features are the flattened image."""

    def features(self, x):
        return x.flatten(1)


class LookupQ(nn.Module):
    """Q's stand-in: the code ``perm^-1[label]`` of every held-out image it was shown (a one-hot
    logit), looked up by the image's bytes; ``shift`` adds a fixed offset to the code."""

    def __init__(self, images: torch.Tensor, labels: np.ndarray, shift: int = 0):
        super().__init__()
        inverse = np.argsort(PERM)
        self.table = {
            x.flatten().numpy().tobytes(): (int(inverse[y]) + shift) % 10
            for x, y in zip(images, labels)
        }

    def forward(self, f):
        codes = torch.tensor([self.table[row.numpy().tobytes()] for row in f])
        return nn.functional.one_hot(codes, 10).float(), torch.zeros(len(f), 2)


@pytest.fixture(scope="module")
def setting():
    config = config_mod.resolve("infogan-digits", overrides=["infogan.eval_per_code=20"])
    data = build_data(config)
    images = to_net(torch.as_tensor(np.asarray(data.heldout.images)))
    labels = np.asarray(data.heldout.labels, dtype=np.int64)
    return config, data, images, labels, resolve_feature_space(config, data)


def _metrics(setting, q):
    config, data, images, labels, space = setting
    g = ClassGenerator(images, labels)
    rng = torch.Generator().manual_seed(0)
    section = config.section("infogan")
    return code_metrics(
        g, Body(), q, config.model, section, space, data.heldout.images, labels, rng
    )


def test_codes_drawing_known_classes_are_matched_to_them(setting):
    _, _, images, labels, _ = setting
    metrics = _metrics(setting, LookupQ(images, labels))
    assert metrics["code_class_matching"] == PERM.tolist()
    # the digits net reads real held-out digits right ~97 % of the time
    assert metrics["code_class_accuracy"] > 0.9
    assert metrics["q_heldout_accuracy"] == 1.0  # Q's code mapped through the matching
    assert metrics["q_heldout_accuracy_own_matching"] == 1.0
    assert metrics["q_generated_accuracy"] == 1.0


def test_a_q_that_reads_the_wrong_codes_scores_zero_through_the_matching(setting):
    """Q's codes shifted by one: through the matching found on generated images every held-out
    image gets a wrong class; a matching fitted on the held-out labels hides it (hence two
    names)."""
    _, _, images, labels, _ = setting
    metrics = _metrics(setting, LookupQ(images, labels, shift=1))
    assert metrics["q_heldout_accuracy"] == 0.0
    assert metrics["q_heldout_accuracy_own_matching"] == 1.0
    assert metrics["q_generated_accuracy"] == 0.0
