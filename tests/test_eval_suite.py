"""`image_metrics`: every metric that fits, refusals listed instead of crashing."""

import numpy as np
import pytest

from gankit.data.images import load_digits_images
from gankit.eval.suite import fid_between, image_metrics


def test_image_metrics_on_digits():
    (x,) = (load_digits_images(),)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(x))
    train, real, fake = x[perm[:900]], x[perm[900:1400]], x[perm[1400:]]
    out = image_metrics(real, fake, train=train, kid_subsets=20)
    assert out["features"] == "digits" and out["refused"] == {}
    assert out["fid"] >= 0 and out["kid_subset_size"] == 397
    assert 8.0 < out["is_mean"] <= 10.0  # a 99 %-accurate classifier on balanced digits
    assert 0.3 < out["one_nn_accuracy"] < 0.7
    assert out["precision"] > 0.8 and out["coverage"] > 0.8
    assert 0.7 < out["nearest"]["ratio"] < 1.4
    assert sum(out["class_histogram_fake"]) == len(fake)
    # copies of the training set are flagged as memorised
    copies = image_metrics(real, train[:300], train=train, kid_subsets=5)
    assert copies["nearest"]["ratio"] < 0.01


def test_image_metrics_lists_refusals():
    x = load_digits_images()
    out = image_metrics(x[:40], x[40:80], kid_subsets=3, kid_subset_size=50)
    assert "fid" not in out and "at least 65 are needed" in out["refused"]["fid"]
    assert "subset_size 50" in out["refused"]["kid"]
    assert "40 samples" not in out["refused"].get("prdc", "")  # PRDC still computed
    assert "precision" in out


def test_fid_between_random_noise_is_far_from_digits():
    x = load_digits_images()
    noise = np.random.default_rng(1).uniform(0, 1, (500, 1, 8, 8)).astype(np.float32)
    near = fid_between(x[:900], x[900:], use_cache=False)["fid"]
    far = fid_between(x[:900], noise, use_cache=False)["fid"]
    assert far > 5 * near
    with pytest.raises(Exception, match="8 x 8"):
        fid_between(x, np.zeros((100, 1, 9, 9), np.float32), use_cache=False)
