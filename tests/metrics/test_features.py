"""The shipped digits net, pluggable extractors, image sources and the statistics cache."""

import os

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gankit.data.images import load_digits_images, load_images
from gankit.errors import GankitError
from gankit.metrics import GaussianStats, inception_score
from gankit.metrics.features import (
    Extractor,
    cache_key,
    cached_stats,
    data_hash,
    extract_features,
    get_extractor,
    register_extractor,
)
from gankit.metrics.features.digits import FEATURE_DIM, WEIGHTS_PATH
from gankit.metrics.features.train_digits import accuracy, split_digits


def test_shipped_digits_net_is_small_and_accurate():
    assert WEIGHTS_PATH.stat().st_size < 1_000_000
    ext = get_extractor("digits")
    _, x_te, _, y_te = split_digits()
    assert accuracy(ext.module, x_te, y_te) >= 0.97


def test_digits_features_shapes_determinism_batch_independence():
    x = load_digits_images()[:300]
    f, lg = extract_features(x, "digits", batch_size=300)
    assert f.shape == (300, FEATURE_DIM) and lg.shape == (300, 10)
    f2, lg2 = extract_features(x, get_extractor("digits"), batch_size=7)
    np.testing.assert_allclose(f, f2, rtol=1e-5, atol=1e-5)  # float32 summation order
    np.testing.assert_allclose(lg, lg2, rtol=1e-5, atol=1e-5)
    # uint8 input is divided by 255, float input taken as is
    u8 = np.round(x * 255).astype(np.uint8)
    fu, _ = extract_features(u8, "digits")
    assert np.abs(fu - f).max() < 0.05 * np.abs(f).max()


def test_digits_net_refuses_other_shapes():
    with pytest.raises(GankitError, match="digits feature network needs 1 x 8 x 8 images"):
        extract_features(np.zeros((2, 3, 32, 32), np.float32), "digits")


def test_unknown_extractor_lists_known_ones():
    with pytest.raises(GankitError, match=r"unknown feature extractor 'vgg'.*'digits'"):
        get_extractor("vgg")
    with pytest.raises(GankitError, match="already registered"):
        register_extractor("digits", lambda **kw: None)


def test_pluggable_module():
    class Flat(nn.Module):
        def forward(self, x):
            assert x.dtype == torch.float32 and x.max() <= 1
            return x.flatten(1) * 2

    class WithLogits(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(12, 3)

        def forward(self, x):
            f = x.flatten(1)
            return {"features": f, "logits": self.lin(f)}

    imgs = np.random.default_rng(0).integers(0, 256, (5, 3, 2, 2)).astype(np.uint8)
    f, lg = extract_features(imgs, Flat(), batch_size=2)
    np.testing.assert_allclose(f, imgs.reshape(5, -1) / 255.0 * 2, rtol=1e-6)
    assert lg is None
    with pytest.raises(GankitError, match="needs class logits"):
        inception_score(lg)
    m = WithLogits().train()
    ext = get_extractor(m)
    assert not m.training and not any(p.requires_grad for p in m.parameters())
    f, lg = extract_features(imgs, ext)
    assert lg.shape == (5, 3)
    assert isinstance(ext, Extractor) and ext.identity.startswith("WithLogits:")


def test_image_range_is_explicit(tmp_path):
    bad = np.random.default_rng(0).uniform(-1, 1, (4, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "tanh.npy", bad)
    with pytest.raises(GankitError, match=r"must lie in \[0, 1\], found range \[-0.9"):
        load_images(tmp_path / "tanh.npy")
    np.save(tmp_path / "int.npy", np.full((2, 1, 4, 4), 7, np.int64))
    with pytest.raises(GankitError, match=r"int64 \(signed integers\) are not pixels; store uint8"):
        load_images(tmp_path / "int.npy")
    np.save(tmp_path / "nhwc.npy", np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(GankitError, match="channels-last"):
        load_images(tmp_path / "nhwc.npy")
    np.save(tmp_path / "flat.npy", np.zeros((2, 64), np.uint8))
    with pytest.raises(GankitError, match="4-D"):
        load_images(tmp_path / "flat.npy")
    with pytest.raises(GankitError, match="no such file"):
        load_images(tmp_path / "missing.npy")
    nan = np.zeros((2, 1, 4, 4), np.float32)
    nan[0, 0, 0, 0] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    with pytest.raises(GankitError, match="NaN"):
        load_images(tmp_path / "nan.npy")


def test_image_sources(tmp_path):
    d = load_images("digits")
    assert d.shape == (1797, 1, 8, 8) and d.dtype == np.float32 and d.max() == 1.0
    rng = np.random.default_rng(1)
    u8 = rng.integers(0, 256, (3, 3, 6, 5)).astype(np.uint8)
    np.savez(tmp_path / "a.npz", images=u8, labels=np.arange(3))
    np.testing.assert_array_equal(load_images(tmp_path / "a.npz"), u8)
    np.savez(tmp_path / "b.npz", foo=u8, bar=u8)
    with pytest.raises(GankitError, match="store the images under one of"):
        load_images(tmp_path / "b.npz")
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, img in enumerate(u8):
        Image.fromarray(img.transpose(1, 2, 0)).save(folder / f"{i}.png")
    np.testing.assert_array_equal(load_images(folder), u8)
    gray = tmp_path / "gray"
    gray.mkdir()
    Image.fromarray(u8[0, 0]).save(gray / "g.png")
    assert load_images(gray).shape == (1, 1, 6, 5)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(gray / "h.png")
    with pytest.raises(GankitError, match="set data.image_size to resize them all"):
        load_images(gray)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("")
    with pytest.raises(GankitError, match="needs samples.npy"):
        load_images(run)
    np.save(run / "samples.npy", d[:10])
    assert load_images(run).shape == (10, 1, 8, 8)


def test_stats_cache(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((50, 3))
    calls = []

    def compute():
        calls.append(1)
        return GaussianStats.from_features(x)

    key = cache_key(data=data_hash(x), extractor="digits:abc", batch=50)
    s1, hit1 = cached_stats(key, compute, tmp_path)
    s2, hit2 = cached_stats(key, compute, tmp_path)
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    np.testing.assert_array_equal(s1.cov, s2.cov)
    assert s2.n == 50
    assert os.listdir(tmp_path) == [f"{key}.npz"]  # no temporary left behind
    assert cache_key(data=data_hash(x), extractor="digits:abd", batch=50) != key
    assert data_hash(x.astype(np.float32)) != data_hash(x)
    (tmp_path / f"{key}.npz").write_bytes(b"garbage")
    s3, hit3 = cached_stats(key, compute, tmp_path)
    assert not hit3 and s3.n == 50


@pytest.mark.slow
def test_digits_training_script_reproduces_accuracy(tmp_path):
    from gankit.metrics.features.train_digits import main

    assert main(["--out", str(tmp_path / "d.safetensors")]) == 0
    assert (tmp_path / "d.safetensors").stat().st_size < 1_000_000
