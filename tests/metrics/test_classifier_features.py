"""The per-dataset classifier feature space: training, determinism, the cache, refusals; and
(slow) real MNIST: held-out accuracy and FID in its feature space."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.errors import GankitError
from gankit.metrics.features import classifier as clf
from gankit.metrics.features import extract_features
from gankit.metrics.features.classifier import (
    ClassifierNet,
    classifier_accuracy,
    classifier_extractor,
    default_classifier_dir,
    train_classifier,
)

MNIST_DIR = Path("/work/shared/data/mnist")
FAST = {"epochs": 25}  # 8 x 8 synthetic data: 25 passes of 4 steps each (100 steps)
SHORT = {"epochs": 4}  # where accuracy does not matter


def synthetic(n_per_class: int, seed: int, classes: int = 10, size: int = 8, dtype="uint8"):
    """Each class a fixed random blob pattern (the same for every seed), plus pixel noise."""
    patterns = np.random.default_rng(1234).random((classes, 1, size, size)) > 0.6
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), n_per_class)
    x = patterns[y] * 0.75 + 0.1 + rng.normal(0.0, 0.12, (len(y), 1, size, size))
    x = np.clip(x, 0.0, 1.0)
    perm = rng.permutation(len(y))
    x, y = x[perm], y[perm].astype(np.int64)
    return (np.round(x * 255).astype(np.uint8) if dtype == "uint8" else x.astype(dtype)), y


@pytest.fixture(scope="module")
def data():
    xt, yt = synthetic(40, seed=0)
    xh, yh = synthetic(20, seed=1)
    return xt, yt, xh, yh


def test_net_runs_at_the_datasets_own_size():
    for c, size, stages in ((1, 8, 1), (1, 12, 1), (1, 28, 2), (3, 32, 3), (3, (16, 24), 2)):
        net = ClassifierNet(c, size, 7).eval()
        assert clf.num_stages((size, size) if isinstance(size, int) else size) == stages
        h, w = (size, size) if isinstance(size, int) else size
        f, lg = net(torch.rand(2, c, h, w))
        assert f.shape == (2, 128) and lg.shape == (2, 7)
    with pytest.raises(GankitError, match="at least 8 x 8"):
        ClassifierNet(1, 7, 10)


def test_rgb_non_square_images(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (60, 3, 12, 20), dtype=np.uint8)
    y = np.arange(60) % 3
    ext, info = classifier_extractor(x, y, x[:9], y[:9], "rgb", cache_dir=tmp_path, epochs=2)
    f, lg = extract_features(x[:5], ext)
    assert f.shape == (5, 128) and lg.shape == (5, 3) and ext.image_shape == (3, 12, 20)


def test_trains_to_high_heldout_accuracy(data):
    net, acc = train_classifier(*data, **FAST)
    assert acc >= 0.95, acc
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert classifier_accuracy(net, data[2], data[3]) == pytest.approx(acc)
    # float input in [0, 1] trains as well as uint8
    xf, yf = synthetic(40, seed=0, dtype="float32")
    _, acc_f = train_classifier(xf, yf, data[2], data[3], **FAST)
    assert acc_f >= 0.95, acc_f


def test_same_seed_same_weights_and_callers_rng_untouched(data):
    torch.manual_seed(99)
    state, np_state = torch.get_rng_state(), np.random.get_state()
    net, acc = train_classifier(*data, **SHORT)
    assert torch.equal(torch.get_rng_state(), state)
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()
    net2, acc2 = train_classifier(*data, **SHORT)
    assert acc == acc2
    for (k, a), (k2, b) in zip(net.state_dict().items(), net2.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    net3, _ = train_classifier(*data, seed=1, **SHORT)
    assert not torch.equal(net.head.weight, net3.head.weight)


def test_threads_restored_and_progress_reported(data):
    before = torch.get_num_threads()
    seen = []
    train_classifier(*data, epochs=2, threads=2, progress=seen.append)
    assert torch.get_num_threads() == before
    assert [s["epoch"] for s in seen] == [1, 2] and all(s["epochs"] == 2 for s in seen)
    assert all(np.isfinite(s["loss"]) and s["seconds"] >= 0 for s in seen)


class FakeClock:
    """``time.perf_counter`` stand-in that advances ``tick`` seconds per reading, so that a
    wall-clock budget is tested by the steps it allows, not by the machine's speed."""

    def __init__(self, tick: float):
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def test_max_seconds_cuts_training_short(data, monkeypatch):
    # 400 images in batches of 64: 7 steps an epoch. The clock is read at the start, before
    # each step and at each epoch's end: at 0.1 s a reading, a 1 s budget allows 8 steps, the
    # 8th opening epoch 2, and the 50 epochs asked for stop there
    monkeypatch.setattr(clf.time, "perf_counter", FakeClock(0.1))
    seen = []
    net, acc = train_classifier(
        *data, epochs=50, batch_size=64, max_seconds=1.0, progress=seen.append
    )
    assert [s["epoch"] for s in seen] == [1, 2]
    assert 0.0 <= acc <= 1.0 and not net.training


def test_extractor_features_logits_and_cache_hit(data, tmp_path, monkeypatch):
    xt, yt, xh, yh = data
    ext, info = classifier_extractor(xt, yt, xh, yh, "toy", cache_dir=tmp_path, **FAST)
    assert info["cached"] is False and info["name"] == "toy" and info["train_size"] == len(xt)
    assert info["heldout_accuracy"] >= 0.95 and info["seconds"] > 0
    key = info["key"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{key}.json", f"{key}.safetensors"]
    record = json.loads((tmp_path / f"{key}.json").read_text())
    assert record["heldout_accuracy"] == info["heldout_accuracy"] and record["name"] == "toy"
    assert record["architecture"]["feature_dim"] == 128

    assert ext.name == "toy" and key in ext.identity and ext.input_kind == "float01"
    assert not ext.module.training
    f, lg = extract_features(xh, ext)
    assert f.shape == (len(xh), 128) and f.dtype == np.float32
    assert lg.shape == (len(xh), 10) and lg.dtype == np.float32
    assert (lg.argmax(1) == yh).mean() == pytest.approx(info["heldout_accuracy"])
    with pytest.raises(GankitError, match="toy feature network needs 1 x 8 x 8"):
        extract_features(np.zeros((2, 1, 16, 16), np.uint8), ext)

    def no_training(*a, **k):
        raise AssertionError("a cache hit must not train")

    monkeypatch.setattr(clf, "train_classifier", no_training)
    ext2, info2 = classifier_extractor(xt, yt, xh, yh, "toy", cache_dir=tmp_path, **FAST)
    assert info2["cached"] is True and info2["key"] == key
    assert info2["heldout_accuracy"] == info["heldout_accuracy"]
    assert info2["seconds"] == info["seconds"] and ext2.identity == ext.identity
    f2, lg2 = extract_features(xh, ext2)
    np.testing.assert_array_equal(f, f2)
    np.testing.assert_array_equal(lg, lg2)
    # the same data given as int32 labels / torch tensors: the same key
    _, info3 = classifier_extractor(
        torch.from_numpy(xt), yt.astype(np.int32), xh, yh, "toy", cache_dir=tmp_path, **FAST
    )
    assert info3["cached"] is True and info3["key"] == key


@pytest.mark.parametrize("damage", ["truncate", "flip_weights", "json", "delete_json"])
def test_corrupt_cache_is_retrained_and_replaced(data, tmp_path, damage):
    ext, info = classifier_extractor(*data, "toy", cache_dir=tmp_path, **SHORT)
    weights, record = tmp_path / f"{info['key']}.safetensors", tmp_path / f"{info['key']}.json"
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:-1000])
    elif damage == "flip_weights":  # valid file, wrong numbers: caught by the weights hash
        b = bytearray(weights.read_bytes())
        b[-200] ^= 0xFF
        weights.write_bytes(bytes(b))
    elif damage == "json":
        record.write_text("{not json")
    else:
        record.unlink()
    ext2, info2 = classifier_extractor(*data, "toy", cache_dir=tmp_path, **SHORT)
    assert info2["cached"] is False and info2["key"] == info["key"]
    assert ext2.identity == ext.identity  # deterministic retraining: the same weights
    _, info3 = classifier_extractor(*data, "toy", cache_dir=tmp_path, **SHORT)
    assert info3["cached"] is True
    assert not list(tmp_path.glob("*.tmp"))


def test_key_depends_on_data_labels_heldout_and_settings(data, tmp_path):
    xt, yt, xh, yh = data
    two = {"epochs": 2}
    keys = set()
    xt2 = xt.copy()
    xt2[0, 0, 0, 0] ^= 1
    yt2 = yt.copy()
    yt2[0] = (yt2[0] + 1) % 10
    for args, kw in (
        ((xt, yt, xh, yh), two),
        ((xt2, yt, xh, yh), two),
        ((xt, yt2, xh, yh), two),
        ((xt, yt, xh[:-1], yh[:-1]), two),
        ((xt, yt, xh, yh), {"epochs": 2, "seed": 1}),
        ((xt, yt, xh, yh), {"epochs": 3}),
        ((xt, yt, xh, yh), {"epochs": 2, "feature_dim": 64}),
    ):
        _, info = classifier_extractor(*args, "toy", cache_dir=tmp_path, **kw)
        assert info["cached"] is False
        keys.add(info["key"])
    assert len(keys) == 7
    # threads / progress do not change the result, so not the key
    _, info = classifier_extractor(
        xt, yt, xh, yh, "toy", cache_dir=tmp_path, epochs=2, threads=1, progress=False
    )
    assert info["cached"] is True


def test_default_cache_dir_follows_gankit_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    assert default_classifier_dir() == tmp_path / "classifiers"


def _one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg
    return msg


def test_refusals(data, tmp_path):
    xt, yt, xh, yh = data
    cases = [
        ((xt, yt[:-1], xh, yh), "train_labels: 399 labels for 400 images"),
        ((xt, yt, xh, yh[:5]), "heldout_labels: 5 labels for 200 images"),
        ((xt, np.where(yt == 0, -1, yt), xh, yh), "found label -1"),
        ((xt, np.minimum(yt, 8), xh, yh), r"heldout_labels: label 9 is out of range \[0, 9\)"),
        ((xt, np.zeros_like(yt), xh, np.zeros_like(yh)), "at least 2 classes, found 1"),
        ((xt, yt.astype(np.float32), xh, yh), "labels must be integers"),
        ((xt, yt[:, None], xh, yh), "labels must be 1-D"),
        ((xt, yt, xh[:, :, :4], yh), "heldout_images are 1 x 4 x 8"),
        ((xt[:, :, :6, :6], yt, xh[:, :, :6, :6], yh), "at least 8 x 8"),
        ((xt.astype(np.float32), yt, xh, yh), r"float images must lie in \[0, 1\]"),
    ]
    for args, pattern in cases:
        for fn in (train_classifier, lambda *a: classifier_extractor(*a, "x", cache_dir=tmp_path)):
            with pytest.raises(GankitError, match=pattern) as e:
                fn(*args)
            _one_line(e)
    with pytest.raises(GankitError, match=r"label 9 is out of range \[0, 5\)"):
        train_classifier(xt, yt, xh, yh, num_classes=5)
    for kw, pattern in (
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 1.5}, "batch_size must be a positive integer"),
        ({"max_seconds": -1}, "max_seconds must be a positive number"),
        ({"threads": 0}, "threads must be a positive integer"),
    ):
        with pytest.raises(GankitError, match=pattern):
            train_classifier(xt, yt, xh, yh, **kw)
    with pytest.raises(GankitError, match="unknown training option"):
        classifier_extractor(xt, yt, xh, yh, "x", cache_dir=tmp_path, epoch=3)
    with pytest.raises(GankitError, match="non-empty string"):
        classifier_extractor(xt, yt, xh, yh, "", cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing written by refused calls


# ----------------------------------------------------------------------------- slow: MNIST


def _read_idx(split: str) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(MNIST_DIR / f"{split}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).copy()
    with gzip.open(MNIST_DIR / f"{split}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return x, y


@pytest.mark.slow
@pytest.mark.skipif(
    not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST not found in {MNIST_DIR} (only on the development machine)",
)
def test_mnist_classifier_accuracy_and_fid(tmp_path):
    from gankit.metrics.fid import fid

    xt, yt = _read_idx("train")
    xh, yh = _read_idx("t10k")
    assert xt.shape == (60000, 1, 28, 28) and xh.shape == (10000, 1, 28, 28)
    threads = max(1, min(4, os.cpu_count() or 1))
    t0 = time.perf_counter()
    ext, info = classifier_extractor(
        xt, yt, xh, yh, "mnist", cache_dir=tmp_path, threads=threads, progress=True
    )
    wall = time.perf_counter() - t0
    print(
        f"\nMNIST classifier: held-out (t10k) accuracy {info['heldout_accuracy']:.4f}, "
        f"training {info['seconds']:.1f} s, wall {wall:.1f} s on {threads} thread(s), "
        f"load average {os.getloadavg()}"
    )
    assert info["cached"] is False and info["heldout_accuracy"] >= 0.985

    t0 = time.perf_counter()
    _, again = classifier_extractor(xt, yt, xh, yh, "mnist", cache_dir=tmp_path)
    print(f"second use (cache hit): {time.perf_counter() - t0:.2f} s")
    assert again["cached"] is True

    f, lg = extract_features(xh, ext)
    assert f.shape == (10000, 128) and lg.shape == (10000, 10)
    assert (lg.argmax(1) == yh).mean() == pytest.approx(info["heldout_accuracy"])
    eig = np.linalg.eigvalsh(np.cov(f[:5000].T.astype(np.float64)))
    print(f"feature covariance: smallest / largest eigenvalue {eig[0] / eig[-1]:.2e}")
    assert eig[0] > 1e-7 * eig[-1]  # full rank, not just numerically
    noise = np.random.default_rng(0).integers(0, 256, (5000, 1, 28, 28), dtype=np.uint8)
    fn, _ = extract_features(noise, ext)
    halves = fid(f[:5000], f[5000:])
    vs_noise = fid(f[:5000], fn)
    print(f"FID(t10k[:5000], t10k[5000:]) = {halves:.4f}; FID(t10k[:5000], noise) = {vs_noise:.1f}")
    assert vs_noise > 100 * halves
