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
from gankit.eval import EvalState, evaluator_for
from gankit.eval.images import SUBSET_SEED, class_agreement


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


def test_kid_reads_in_inceptions_range_not_in_raw_feature_units(digits_evaluator):
    """The digits net's features have entries of about 7, so the cubic kernel's raw KID of
    real images read -400 +- 500; divided by the held-out split's RMS entry, real images read
    within 0.05 of 0 and uniform noise far above that (issue 22)."""
    evaluator, data = digits_evaluator
    held = evaluator.heldout_features
    assert evaluator.kid_scale == pytest.approx(np.sqrt(np.mean(held.astype(np.float64) ** 2)))
    assert evaluator.kid_scale > 3.0  # what made the raw KID unreadable
    real, _, _ = evaluator.metrics(to_net(data.train.images[:600]))
    assert abs(real["kid_digits"]) < 0.05 and real["kid_std_digits"] < 0.05
    noise = torch.rand(600, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fake, _, _ = evaluator.metrics(noise)
    assert fake["kid_digits"] > 10 * max(abs(real["kid_digits"]), real["kid_std_digits"])


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


class RecordingD(torch.nn.Module):
    """A conditional D that scores ``x`` by its class (``y / 10``) and records what it read."""

    classes = 10
    pointwise = True

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, x, y):
        self.calls.append((x.shape[0], y.clone()))
        return (y.float() / 10).unsqueeze(1)


def test_a_conditional_d_is_read_with_the_labels_and_the_classes_asked_for(digits_evaluator):
    evaluator, data = digits_evaluator
    d = RecordingD()
    samples = to_net(data.heldout.images[:200])
    asked = torch.arange(200) % 10
    state = EvalState(lambda n, rng: samples[:n], 0, d, "hinge", lambda n: asked[:n])
    out = evaluator.overfit(state, samples, asked)
    n = 200  # min(READOUT_MAX, samples, train, held-out)
    (n_train, y_train), (n_held, y_held), (n_gen, y_gen) = d.calls
    assert n_train == n_held == n_gen == n
    subset = np.sort(np.random.default_rng(SUBSET_SEED).permutation(len(data.train))[:n])
    assert y_train.tolist() == data.train.labels[subset].tolist()
    assert y_held.tolist() == data.heldout.labels[:n].tolist()
    assert torch.equal(y_gen, asked)
    # hinge reads raw scores: the means of y / 10 on each side
    assert out["d_train"] == pytest.approx(data.train.labels[subset].mean() / 10)
    assert out["d_gen"] == pytest.approx(float(asked.float().mean()) / 10)


def test_class_agreement_is_the_share_read_as_asked(digits_evaluator):
    evaluator, data = digits_evaluator
    images, labels = data.heldout.images[:100], torch.as_tensor(data.heldout.labels[:100])
    _, logits = evaluator.features(images)
    read = torch.as_tensor(logits.argmax(1))
    wrong = labels.clone()
    wrong[:30] = (labels[:30] + 1) % 10  # 30 asked for another class than drawn
    out, _, _ = evaluator.metrics(to_net(images), wrong)
    expected = float((read == wrong).double().mean())
    assert out["class_agreement"] == pytest.approx(expected)
    assert out["class_agreement"] <= float((read == labels).double().mean()) - 0.25


def test_class_agreement_per_class_by_hand():
    predicted = np.array([0, 0, 1, 2, 2, 2, 1])
    asked = np.array([0, 1, 1, 2, 2, 0, 1])
    out = class_agreement(predicted, asked, 4)
    # class 0: asked twice, read 0 once; class 1: 3 asks, 2 right; class 2: both right; 3: none
    assert out["class_agreement_per_class"] == [0.5, pytest.approx(2 / 3), 1.0, None]
    assert out["class_agreement_min"] == 0.5
    assert out["class_agreement"] == pytest.approx(5 / 7)


def _frechet_from_scratch(a: np.ndarray, b: np.ndarray) -> float:
    """FID written from its formula with scipy's sqrtm (an independent implementation)."""
    import scipy.linalg

    mu1, mu2 = a.mean(0), b.mean(0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1 + c2 - 2 * root))


def test_intra_class_fid_is_each_class_against_its_own_held_out_images(digits_evaluator):
    evaluator, data = digits_evaluator
    s = evaluator.suffix
    # "generated" images: training images of classes 0..9 in turn; class 3 asked for but drawn
    # as 5s, so its FID alone must rise far above its floor
    labels = np.asarray(data.train.labels)
    rows = np.concatenate([np.flatnonzero(labels == k)[:60] for k in range(10)])
    asked = labels[rows].copy()
    images = data.train.images[rows].copy()
    fives = np.flatnonzero(labels == 5)[60:120]
    images[asked == 3] = data.train.images[fives[: int((asked == 3).sum())]]
    feats, _ = evaluator.features(images)
    out = evaluator.intra_class_fid(feats, asked)
    fids, floors = out[f"fid_per_class_{s}"], out[f"fid_floor_per_class_{s}"]
    assert len(fids) == len(floors) == 10
    held = evaluator.heldout_features[np.asarray(data.heldout.labels) == 7]
    assert fids[7] == pytest.approx(_frechet_from_scratch(held, feats[asked == 7]), rel=1e-6)
    assert fids[3] > 5 * max(f for k, f in enumerate(fids) if k != 3)
    assert out[f"intra_fid_{s}"] == pytest.approx(np.mean(fids))
    assert out[f"intra_fid_floor_{s}"] == pytest.approx(np.mean(floors))
    for k in set(range(10)) - {3}:  # real images of the class score near their floor
        assert fids[k] < 3 * floors[k]
