"""Image runs end to end on tiny budgets: `gankit train --preset digits`, the grids, the
metrics, the report; `gankit sample` for images; the evaluation agrees with `gankit fid`; the
MNIST-style classifier feature space on IDX files the test writes; the refusals."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.data.datasets import split_digits
from image_cli_kit import TINY, gankit, rows_of


def test_digits_run_writes_grids_metrics_and_report(digits_run):
    run = digits_run
    for step in (15, 30):
        with Image.open(run / "samples" / f"step-{step}.png") as im:
            assert im.format == "PNG" and im.mode == "L"
        with np.load(run / "snapshots" / f"step-{step}.npz") as npz:
            assert npz["samples"].shape == (20, 1, 8, 8) and npz["samples"].dtype == np.uint8
            assert npz["classes"].shape == (20,) and set(npz["classes"]) <= set(range(10))
    evaluations = [r for r in rows_of(run) if "fid_digits" in r]
    assert [r["step"] for r in evaluations] == [15, 30]
    for r in evaluations:
        for key in ("fid_floor_digits", "kid_digits", "precision_digits", "recall_digits"):
            assert isinstance(r[key], float), key
        assert r["n_classes"] == 10 and sum(r["class_histogram"]) == 100
        assert {"d_train", "d_heldout", "d_gen"} <= set(r)
    final = json.loads((run / "final_metrics.json").read_text())
    assert final["samples"] == 200 and final["step"] == 30
    for key in ("fid_digits", "one_nn_accuracy_digits", "nn_ratio_digits", "coverage_digits"):
        assert isinstance(final[key], float), key
    # FID's expectation over 3 draws of 200, the first being the one fid_digits was read on
    assert final["fid_draws"] == 3 and final["fid_draws_std_digits"] > 0
    assert final["fid_mean_digits"] != final["fid_digits"]
    with np.load(run / "nearest.npz") as npz:
        assert npz["generated"].shape == npz["nearest_train"].shape == (16, 1, 8, 8)
        assert npz["real"].dtype == np.uint8
    page = (run / "report.html").read_text()
    assert "fid_digits" in page and "data:image/png;base64," in page
    assert (run / "diagnosis.json").is_file() and (run / "tb").is_dir()


def test_the_draws_of_an_evaluation_are_announced(digits_run, tmp_path):
    """The FID draws of a final evaluation (the minute after the bar reaches 100 %, or all of
    `gankit evaluate`) say so on stderr, terminal or not (issue 22)."""
    run = tmp_path / "run"
    shutil.copytree(digits_run, run)  # evaluate appends a row to the run's metrics
    code, _, err = gankit("evaluate", run, "-n", 100)
    assert code == 0, err
    said = err.splitlines()
    assert said[0].startswith("gankit: evaluate: FID over 3 draws, draw 2/3, ")
    assert said[-1].startswith("gankit: evaluate: draw 3/3,") and len(said) == 2
    from gankit import api
    from gankit.recipes.finish import finish

    with contextlib.redirect_stderr(io.StringIO()) as final:
        finish(api.load_run(run))  # what train does once its bar reaches 100 %
    assert final.getvalue().startswith("gankit: final evaluation: FID over 3 draws, draw 2/3")
    with contextlib.redirect_stderr(io.StringIO()) as quiet:
        finish(api.load_run(run), progress=False)  # train --quiet
    assert quiet.getvalue() == ""


def test_sample_writes_images_in_every_form(digits_run, tmp_path):
    code, _, err = gankit(
        "sample", digits_run, "-n", 12, "--out", tmp_path / "s.npy", "--grid", tmp_path / "g.png"
    )
    assert code == 0, err
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (12, 1, 8, 8) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    with Image.open(tmp_path / "g.png") as im:
        assert im.size[0] > 8 * 4  # a grid of upscaled images
    code, _, err = gankit("sample", digits_run, "-n", 3, "--out", f"{tmp_path / 'pngs'}/")
    assert code == 0, err
    files = sorted((tmp_path / "pngs").glob("sample-*.png"))
    assert len(files) == 3
    with Image.open(files[0]) as im:
        assert im.size == (8, 8)
    code, _, err = gankit("sample", digits_run, "-n", 3, "--out", f"{tmp_path / 'pngs'}/")
    assert code == 2 and "--force" in err  # nothing overwritten


def test_evaluation_equals_gankit_fid_on_the_runs_samples(digits_run, tmp_path):
    """The run's own FID (gankit evaluate) and `gankit fid` on `gankit sample`'s output
    against the held-out split agree: one computation, two doors. (`gankit evaluate` records
    its row in the run: on a copy, as the shared run is read by other tests.)"""
    run = shutil.copytree(digits_run, tmp_path / "run")
    code, out, err = gankit("evaluate", run, "-n", 150, "--seed", 4, "--json")
    assert code == 0, err
    evaluated = json.loads(out)
    assert 0.0 <= evaluated["class_agreement"] <= 1.0  # the preset is class-conditional
    assert rows_of(run)[-1]["event"] == "evaluate"
    code, _, err = gankit("sample", digits_run, "-n", 150, "--seed", 4, "--out", tmp_path / "s.npy")
    assert code == 0, err
    np.save(tmp_path / "heldout.npy", split_digits()[1].images)
    code, out, err = gankit(
        "fid", tmp_path / "heldout.npy", tmp_path / "s.npy", "--features", "digits", "--json",
        "--no-cache",
    )  # fmt: skip
    assert code == 0, err
    # equal up to the order of float64 sums (statistics merged batch by batch in `gankit fid`)
    assert json.loads(out)["fid"] == pytest.approx(evaluated["fid_digits"], rel=1e-6)


def _write_idx(path: Path, array: np.ndarray) -> None:
    code = 0x08
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def fake_mnist(folder: Path, n_train: int = 300, n_test: int = 150, size: int = 8) -> Path:
    """IDX files of a 3-class toy 'MNIST': each class a bright bar in its own place."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 3, n)
        images = rng.integers(0, 40, (n, size, size))
        for i, y in enumerate(labels):
            images[i, :, 2 * y + 1 : 2 * y + 3] = 230
        _write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


def test_mnist_preset_on_idx_files_trains_its_own_feature_space(tmp_path):
    data = fake_mnist(tmp_path / "mnist")
    run = tmp_path / "run"
    code, _, err = gankit(
        "train", "--preset", "mnist", "--set", f"data.path={data}", "--out", run, *TINY,
        "--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "log.eval_samples=150",
    )  # fmt: skip
    assert code == 0, err
    assert "held-out accuracy" in err  # the classifier reports itself
    final = json.loads((run / "final_metrics.json").read_text())
    assert isinstance(final["fid_mnist"], float) and final["n_classes"] == 3
    assert (run / "samples" / "step-30.png").is_file()


def test_an_unlabelled_folder_without_inception_weights_is_refused(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(30):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3)).astype(np.uint8)).save(
            folder / f"{i}.png"
        )
    run = tmp_path / "run"
    code, _, err = gankit(
        "train", "--preset", "image-folder", "--set", f"data.path={folder}", "--out", run, *TINY
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "log.inception_weights" in err and "sub-folder per class" in err
    assert not run.exists()  # refused before anything is written


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["model.arch=mlp"], "images need model.arch = 'dcgan'"),
        (["data.image_size=10", "model.arch=dcgan", "game.augment=zoom"], "game.augment"),
        (["game.augment_p=0"], "game.augment_p"),
        (["game.augment_p=1.5"], "game.augment_p"),
        (["game.augment=", "game.augment_p=0.5"], "game.augment_p = 0.5 has no transform"),
        (["log.eval_samples=20"], "log.eval_samples = 20"),
        (["data.train_size=5000"], "data.train_size = 5000"),
        (["data.path=/somewhere"], "data.path: digits ships with scikit-learn"),
        (["model.d_input=moments"], "model.d_input"),
    ],
)
def test_image_misfits_are_refused_before_anything_is_written(tmp_path, overrides, expected):
    sets = [a for o in overrides for a in ("--set", o)]
    run = tmp_path / "run"
    code, _, err = gankit("train", "--preset", "digits", "--out", run, *TINY, *sets)
    assert code == 2 and expected in err, err
    assert not run.exists()


@pytest.mark.parametrize(
    "override",
    [
        "game.augment=cutout",
        "game.augment_p=0.5",
        "log.final_draws=5",
        "log.features=digits",
        "log.grid=16",
        "data.image_size=16",
        "data.path=/somewhere",
        "train.channels_last=true",
    ],
)
def test_toy_runs_refuse_every_image_setting(tmp_path, override):
    """An image-only key on toy data is refused, not silently ignored."""
    key = override.split("=")[0]
    code, _, err = gankit("train", "--preset", "ring-8", "--out", tmp_path / "r", "--set", override)
    assert code == 2 and f"{key} = " in err and "toy data" in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


def test_toy_runs_refuse_dcgan(tmp_path):
    code, _, err = gankit(
        "train", "--preset", "ring-8", "--out", tmp_path / "r", "--set", "model.arch=dcgan"
    )
    assert code == 2 and "needs image data" in err
