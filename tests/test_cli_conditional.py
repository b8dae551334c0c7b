"""The class-conditional DCGAN end to end on a tiny budget (the `digits` preset, whose
`model.conditional = true`): it trains and evaluates with its classes (class agreement, D's
read-outs with labels); `gankit sample --class K` draws one class (`gankit evaluate` is tested
in test_cli_images on the same run); an unconditional G is refused a class; and the
refusals: unlabelled data, toy data, packing, penalties across the sides."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import api
from gankit.data.checks import from_net
from image_cli_kit import TINY, gankit, rows_of

CONDITIONAL = ["--set", "model.conditional=true"]


def test_digits_run_reports_how_often_g_draws_the_class_asked_for(digits_run):
    run = digits_run
    evaluations = [r for r in rows_of(run) if "fid_digits" in r]
    assert [r["step"] for r in evaluations] == [15, 30]
    for r in evaluations:
        assert 0.0 <= r["class_agreement"] <= 1.0
        assert {"d_train", "d_heldout", "d_gen", "d_overfit"} <= set(r)  # D read with labels
    final = json.loads((run / "final_metrics.json").read_text())
    assert 0.0 <= final["class_agreement"] <= 1.0 and final["fid_draws"] == 3
    per_class = final["class_agreement_per_class"]
    assert len(per_class) == 10 and final["class_agreement_min"] == min(per_class)
    fids, floors = final["fid_per_class_digits"], final["fid_floor_per_class_digits"]
    assert len(fids) == len(floors) == 10 and all(f > 0 for f in fids + floors)
    assert final["intra_fid_digits"] == pytest.approx(np.mean(fids))
    page = (run / "report.html").read_text()
    assert "Class by class (conditional G)" in page and "intra-class FID" in page
    assert "conditional = true" in (run / "config.toml").read_text()
    with Image.open(run / "samples" / "step-30.png") as im:
        assert im.format == "PNG"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["model.pack=2"], "model.pack = 2"),
        (["game.unroll=2"], "game.unroll"),
        (["game.loss=wasserstein", "game.penalties.gp=10"], "game.penalties.gp"),
    ],
)
def test_conditional_misfits_are_refused_before_anything_is_written(tmp_path, overrides, expected):
    sets = [a for o in overrides for a in ("--set", o)]
    run = tmp_path / "run"
    code, _, err = gankit("train", "--preset", "digits", "--out", run, *TINY, *sets)
    assert code == 2 and expected in err, err
    assert len(err.strip().splitlines()) == 1 and not run.exists()


def test_conditional_needs_labels(tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(12):
        Image.fromarray(np.full((8, 8), 20 * i, np.uint8)).save(folder / f"{i}.png")
    run = tmp_path / "run"
    code, _, err = gankit(
        "train", "--preset", "image-folder", "--set", f"data.path={folder}", "--set",
        "data.image_size=8", "--out", run, *TINY, *CONDITIONAL,
    )  # fmt: skip
    assert code == 2 and "model.conditional needs labelled data" in err, err
    assert not run.exists()


def test_toy_runs_refuse_conditional(tmp_path):
    code, _, err = gankit("train", "--preset", "ring-8", "--out", tmp_path / "r", *CONDITIONAL)
    assert code == 2 and "model.conditional = " in err and "toy data" in err, err


def test_sample_class_k_asks_g_for_that_class_only(digits_run, tmp_path):
    code, _, err = gankit(
        "sample", digits_run, "-n", 7, "--seed", 2, "--class", 3, "--out", tmp_path / "s.npy"
    )
    assert code == 0, err
    run = api.load_run(digits_run)
    rng = torch.Generator().manual_seed(2)
    z = torch.randn(7, run.config.model.noise_dim, generator=rng)
    with torch.no_grad():
        expected = from_net(run.generator.eval()(z, torch.full((7,), 3)))
    assert np.allclose(np.load(tmp_path / "s.npy"), expected.numpy(), atol=1e-6)
    code, _, err = gankit("sample", digits_run, "-n", 2, "--class", 10, "--out", tmp_path / "t.npy")
    assert code == 2 and "--class 10" in err and "0..9" in err, err
    assert not (tmp_path / "t.npy").exists()


def test_an_undigits_run_is_refused_a_class(tmp_path):
    run = tmp_path / "run"
    plain = ["--set", "model.conditional=false"]
    code, _, err = gankit("train", "--preset", "digits", *plain, "--out", run, *TINY)
    assert code == 0, err
    assert api.load_run(run).generator.classes == 0
    code, _, err = gankit("sample", run, "-n", 3, "--class", 1, "--out", tmp_path / "c.npy")
    assert code == 2 and "--class 1" in err and "unconditional" in err, err
    assert not (tmp_path / "c.npy").exists()


def test_a_conditional_sample_writes_its_classes_beside_its_images(digits_run, tmp_path):
    """`gankit sample` of a conditional run writes the class each sample was asked for next to
    the samples (FILE.labels.npy, DIR/labels.npy), and its grid has a row per class."""
    import numpy as np

    out, folder, grid = tmp_path / "s.npy", tmp_path / "pngs/", tmp_path / "g.png"
    code, _, err = gankit("sample", digits_run, "-n", 30, "--out", out, "--grid", grid, "--seed", 2)
    assert code == 0, err
    labels = np.load(tmp_path / "s.labels.npy")
    assert labels.dtype == np.int64 and labels.shape == (30,)
    assert np.bincount(labels, minlength=10).tolist() == [3] * 10  # the prior, stratified
    code, _, err = gankit("sample", digits_run, "-n", 6, "--class", 7, "--out", f"{folder}/")
    assert code == 0, err
    assert np.load(folder / "labels.npy").tolist() == [7] * 6
    with Image.open(grid) as im:
        assert im.size[1] == 10 * (32 + 2) + 2  # ten rows of 8x8 digits zoomed to 32 px


def test_a_self_conditioned_run_reads_clusters_and_reports_no_class_metrics(tmp_path):
    """``data.clusters = K`` with ``model.conditional``: G and D read k-means clusters (K of
    them, drawn with their training shares), the class histogram still counts the feature
    net's classes, and nothing that reads classes (agreement, intra-class FID, the per-class
    section, ``--class``, a labels file) takes the clusters for classes."""
    run = tmp_path / "run"
    code, _, err = gankit(
        "train", "--preset", "digits", "--set", "data.clusters=12", "--out", run, *TINY
    )
    assert code == 0, err
    loaded = api.load_run(run)
    assert loaded.generator.classes == 12
    final = json.loads((run / "final_metrics.json").read_text())
    assert len(final["class_histogram"]) == 10 and "class_ratio_min" in final
    assert not any(k.startswith(("class_agreement", "intra_fid", "fid_per_class")) for k in final)
    evaluations = [r for r in rows_of(run) if "fid_digits" in r]
    assert evaluations and all("d_overfit" in r and "class_agreement" not in r for r in evaluations)
    assert "Class by class" not in (run / "report.html").read_text()
    code, _, err = gankit("sample", run, "-n", 3, "--class", 1, "--out", tmp_path / "c.npy")
    assert code == 2 and "k-means clusters" in err, err
    code, _, err = gankit("sample", run, "-n", 3, "--out", tmp_path / "s.npy")
    assert code == 0, err
    assert (tmp_path / "s.npy").exists() and not (tmp_path / "s.labels.npy").exists()
    code, out, err = gankit("evaluate", run, "--json")
    assert code == 0, err
