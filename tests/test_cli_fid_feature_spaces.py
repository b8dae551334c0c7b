"""`gankit fid` / `gankit features` in the classifier feature spaces training measures in:
``--features DATASET --data-path DIR`` (the space a run of the dataset's preset is evaluated in)
and ``--features RUN`` (the space that run's metrics are in), on tiny labelled datasets the
tests write; the refusals of bad values.

The classifier's automatic schedule is cut to 20 passes (`MAX_AUTO_EPOCHS`, part of its cache
key, so training and `gankit fid` still share one entry) and ``$GANKIT_CACHE`` is a fresh
folder per module: nothing is read from or written to the user's cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit import config as config_mod
from gankit.data.sources import build_data
from gankit.eval.feature_space import resolve_feature_space
from gankit.metrics import fid
from gankit.metrics.features import classifier, extract_features
from image_cli_kit import TINY, gankit
from test_cli_images import fake_mnist


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A fresh ``$GANKIT_CACHE`` and a 20-pass classifier schedule for the whole module."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANKIT_CACHE", str(folder))
        mp.setattr(classifier, "MAX_AUTO_EPOCHS", 20)
        yield folder


def classifiers_in(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "classifiers").glob("*.safetensors"))


def labelled_folder(folder: Path, n: int = 160, size: int = 12) -> Path:
    """An image folder of 3 classes (one sub-folder each), 12x12 colour: each class a bright
    bar of its own colour and place on noise."""
    rng = np.random.default_rng(1)
    for i in range(n):
        y = i % 3
        image = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
        image[:, 3 * y + 1 : 3 * y + 4, y] = 240
        sub = folder / f"class-{y}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(sub / f"{i:03d}.png")
    return folder


def test_fid_in_an_image_folders_classifier_space_is_training_s(cache, tmp_path):
    """``--features image-folder --data-path D``: the classifier `gankit train --preset
    image-folder --set data.path=D` measures in (the preset's 32x32 colour, its 10 % held out),
    named as its metric keys (``fid_image_folder``), and the same number as FID computed with
    `resolve_feature_space`'s extractor of that training config."""
    data_dir = labelled_folder(tmp_path / "pictures")
    config = config_mod.resolve(preset="image-folder", overrides=[f"data.path='{data_dir}'"])
    data = build_data(config)
    assert data.shape == (3, 32, 32)
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    train = data.train.images  # 144 of the 160: more than the 128 features
    np.save(a, train)
    np.save(b, np.random.default_rng(2).integers(0, 256, (150, 3, 32, 32), dtype=np.uint8))
    code, out, err = gankit(
        "fid", a, b, "--features", "image-folder", "--data-path", data_dir, "--json",
        "--no-cache",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["features"] == "image_folder" and result["feature_dim"] == 128
    assert "feature space 'image_folder'" in err and "held-out accuracy" in err
    assert len(classifiers_in(cache)) == 1

    space = resolve_feature_space(config, data)
    assert space.info["cached"] is True  # the one `gankit fid` trained: the same network
    assert len(classifiers_in(cache)) == 1
    fa, _ = extract_features(np.load(a), space.extractor)
    fb, _ = extract_features(np.load(b), space.extractor)
    assert result["fid"] > 1.0  # noise against the bars: a number that can be wrong
    assert result["fid"] == pytest.approx(fid(fa, fb), rel=1e-6)

    # `gankit features` reads the same space
    code, out, err = gankit(
        "features", a, "--features", "image-folder", "--data-path", data_dir,
        "--out", tmp_path / "f.npy", "--logits", tmp_path / "l.npy", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["features"] == "image_folder"
    np.testing.assert_allclose(np.load(tmp_path / "f.npy"), fa, rtol=1e-5, atol=1e-6)
    assert np.load(tmp_path / "l.npy").shape == (len(train), 3)

    # images of another shape than the space's are refused before anything runs
    small = tmp_path / "small.npy"
    np.save(small, np.zeros((200, 3, 12, 12), np.uint8))
    code, _, err = gankit(
        "fid", small, small, "--features", "image-folder", "--data-path", data_dir
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "needs 3 x 32 x 32 images" in err


@pytest.fixture(scope="module")
def mnist_run(cache, tmp_path_factory):
    """A tiny run of the mnist preset on IDX files (3 classes, 8x8): it trains its classifier
    feature space, and reports ``fid_mnist``."""
    root = tmp_path_factory.mktemp("mnist")
    data = fake_mnist(root / "data")
    run = root / "run"
    code, _, err = gankit(
        "train", "--preset", "mnist", "--set", f"data.path={data}", "--out", run, *TINY,
        "--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "log.eval_samples=150",
        "--set", "log.final_draws=1",
    )  # fmt: skip
    assert code == 0, err
    assert len(classifiers_in(cache)) >= 1
    return run, data


def test_fid_in_a_runs_space_reproduces_its_fid(mnist_run, cache, tmp_path):
    """``--features RUN`` is the space the run's metrics are in: its classifier read from the
    cache (none trained), and FID of the run's final samples against its held-out split is
    the run's own ``fid_mnist``. ``--features mnist --data-path D`` is the same space."""
    run, data_dir = mnist_run
    before = classifiers_in(cache)
    config = config_mod.resolve(config_file=run / "config.toml")
    heldout = tmp_path / "heldout.npy"
    np.save(heldout, build_data(config).heldout.images)
    final = json.loads((run / "final_metrics.json").read_text())
    code, out, err = gankit("fid", run, heldout, "--features", run, "--json", "--no-cache")
    assert code == 0, err
    result = json.loads(out)
    assert result["features"] == "mnist" and "(cached)" in err
    assert result["n_a"] == final["samples"] == 200
    assert result["fid"] == pytest.approx(final["fid_mnist"], rel=1e-6)
    code, out, err = gankit(
        "fid", run, heldout, "--features", "mnist", "--data-path", data_dir, "--json",
        "--no-cache",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["fid"] == pytest.approx(result["fid"], rel=1e-9)
    assert classifiers_in(cache) == before  # nothing trained anew


def test_a_moved_runs_data_is_named_with_the_way_out(mnist_run, cache, tmp_path):
    """A run whose data.path no longer holds its data: refused naming ``--data-path``, which
    then finds the run's classifier (cached: the same splits) where the data is now."""
    run, data_dir = mnist_run
    moved = tmp_path / "run"
    moved.mkdir()
    text = (run / "config.toml").read_text()
    assert str(data_dir) in text
    (moved / "config.toml").write_text(text.replace(str(data_dir), str(tmp_path / "gone")))
    heldout = tmp_path / "heldout.npy"
    np.save(heldout, build_data(config_mod.resolve(config_file=run / "config.toml")).heldout.images)
    code, _, err = gankit("fid", heldout, heldout, "--features", moved)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--data-path" in err and "moved" in err and "gone" in err
    code, out, err = gankit(
        "fid", heldout, heldout, "--features", moved, "--data-path", data_dir, "--json",
        "--no-cache",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["features"] == "mnist" and "(cached)" in err


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (
            ["--features", "mnistt"],
            "argument --features: 'mnistt' is neither one of auto, inception, digits, mnist, "
            "fashion-mnist, cifar10, image-folder nor a run directory",
            2,
        ),
        (["--features", "."], "'.' is neither one of", 2),  # a folder, not a run
        (["--features", "image-folder"], "--features image-folder needs --data-path DIR", 2),
        (["--features", "mnist"], "--features mnist needs --data-path DIR", 2),
        (["--features", "digits", "--data-path", "."], "--data-path: only with", 2),
        (["--data-path", "."], "not with 'auto'", 2),
        (["--features", "mnist", "--data-path", ""], "--data-path: an empty path", 2),
    ],
)
@pytest.mark.parametrize("command", ["fid", "features"])
def test_bad_feature_spaces_are_one_line_refusals(tmp_path, args, expected, code, command):
    a = tmp_path / "a.npy"
    np.save(a, np.zeros((10, 1, 8, 8), np.uint8))
    sources = [a, a] if command == "fid" else [a, "--out", tmp_path / "f.npy"]
    got, out, err = gankit(command, *sources, *args)
    assert got == code and out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "f.npy").exists()


def test_a_toy_run_has_no_image_feature_space(tmp_path):
    run = tmp_path / "toy"
    code, _, err = gankit(
        "train", "--preset", "gaussian-1d", "--out", run, "--steps", 5, "--quiet",
        "--set", "log.eval_every=0",
    )  # fmt: skip
    assert code == 0, err
    a = tmp_path / "a.npy"
    np.save(a, np.zeros((10, 1, 8, 8), np.uint8))
    code, _, err = gankit("fid", a, a, "--features", run)
    assert code == 2 and "toy data" in err and len(err.strip().splitlines()) == 1


def test_each_dataset_space_is_its_presets():
    """A dataset's name as ``--features`` is built from the preset of that name (its data
    settings make the splits, hence the classifier): each has one, reading that dataset."""
    from gankit.eval.feature_space import CLASSIFIER_DATASETS

    for name in CLASSIFIER_DATASETS:
        assert name in config_mod.preset_names()
        assert config_mod.resolve(preset=name).data.name == name
