"""The image evaluator's floors (a generator that draws exactly the floor's training images
scores exactly the floors, and the floors are what real images score, not 0) and FID's
expectation over independent draws (`log.final_draws`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit import config as config_mod
from gankit.data.checks import to_net
from gankit.data.sources import build_data
from gankit.eval import evaluator_for


@pytest.fixture(scope="module")
def digits_evaluator(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANKIT_CACHE", str(cache))
        config = config_mod.resolve(preset="digits")
        data = build_data(config)
        yield evaluator_for(config, data), data


def test_the_training_images_score_the_fid_and_kid_floors(digits_evaluator):
    evaluator, data = digits_evaluator
    train = data.train.images  # all 1,500: the floor's subset at this size, in its order
    out, _, _ = evaluator.metrics(to_net(train))
    assert out["fid_digits"] == pytest.approx(out["fid_floor_digits"], rel=1e-6)
    assert out["kid_digits"] == pytest.approx(out["kid_floor_digits"], rel=1e-6)
    # the floors are not 0: FID's small-sample bias, and KID's shared held-out draw (negative
    # on digits' 297 held-out images), which a run's KID must be read against
    assert out["fid_floor_digits"] > 1.0
    assert abs(out["kid_floor_digits"]) > out["kid_std_digits"] / 10


def test_kid_floor_is_reproducible_and_follows_the_sample_size(digits_evaluator):
    evaluator, _ = digits_evaluator
    first = evaluator.kid_floor(400)
    assert evaluator.kid_floor(400) == first
    assert evaluator.kid_floor(1500) != first


def test_final_draws_give_the_mean_and_std_of_each_draws_fid(digits_evaluator):
    _, data = digits_evaluator
    config = config_mod.resolve(preset="digits", overrides=["log.final_draws=4"])
    evaluator = evaluator_for(config, data)
    train = to_net(data.train.images)
    subsets = [
        torch.randperm(len(train), generator=torch.Generator().manual_seed(i))[:400]
        for i in range(4)
    ]
    asked = []

    def redraw(i):
        asked.append(i)
        return train[subsets[i]]

    out = evaluator.final(train[subsets[0]], redraw=redraw)
    each = [evaluator.metrics(train[index])[0]["fid_digits"] for index in subsets]
    assert asked == [1, 2, 3]  # the first draw is the evaluated samples, scored once
    assert out["fid_draws"] == 4 and out["fid_digits"] == pytest.approx(each[0], rel=1e-12)
    assert out["fid_mean_digits"] == pytest.approx(np.mean(each), rel=1e-9)
    assert out["fid_draws_std_digits"] == pytest.approx(np.std(each, ddof=1), rel=1e-9)
    assert out["fid_draws_std_digits"] > 0
    same = evaluator.final(train[subsets[0]], redraw=lambda i: train[subsets[0]])
    assert same["fid_mean_digits"] == pytest.approx(each[0]) and same["fid_draws_std_digits"] == 0
    assert "fid_mean_digits" not in evaluator.final(train[subsets[0]])  # no redraw: one draw


def test_expected_fid_by_hand(digits_evaluator):
    evaluator, _ = digits_evaluator
    out = evaluator.expected_fid([10.0, 12.0, 17.0])
    assert out == {
        "fid_mean_digits": pytest.approx(13.0),
        "fid_draws_std_digits": pytest.approx(np.sqrt(13.0)),  # (9 + 1 + 16) / 2
        "fid_draws": 3,
    }
    assert evaluator.expected_fid([9.5])["fid_draws_std_digits"] == 0.0
