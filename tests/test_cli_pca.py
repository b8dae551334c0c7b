"""Probabilistic PCA (``model.family = "pca"``) end to end: `gankit train --preset pca-digits`
and ``pca-ring-8`` at a tiny budget write the run directory of every family with the held-out
``log_likelihood`` in each evaluation and the final metrics; `gankit sample` and `gankit
evaluate` read the run like a GAN's; keys that mean nothing for PCA are refused in one line
with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from image_cli_kit import assert_refused, gankit, rows_of, train_tiny

TINY = [
    "--steps", "2",
    "--set", "log.every=1",
    "--set", "log.eval_every=1",
    "--set", "log.eval_samples=200",
    "--set", "log.final_samples=300",
    "--set", "log.final_draws=2",
    "--set", "log.grid=16",
    "--set", "train.threads=1",
    "--quiet",
]  # fmt: skip


def check_family_run(run, preset_kind: str, exact: bool) -> dict:
    """The run directory of a classical family: files, evaluations, final metrics; returns
    the final metrics."""
    for name in ("config.toml", "metrics.jsonl", "final_metrics.json", "report.html"):
        assert (run / name).is_file(), name
    assert list((run / "checkpoints").glob("step-*.safetensors"))
    key = "fid_digits" if preset_kind == "images" else "modes_covered"
    evaluations = [r for r in rows_of(run) if key in r]
    assert evaluations
    final = json.loads((run / "final_metrics.json").read_text())
    assert key in final
    assert ("log_likelihood" in final) == exact
    if exact:
        assert all("log_likelihood" in r for r in evaluations)
        assert np.isfinite(final["log_likelihood"])
    if preset_kind == "images":
        assert list((run / "samples").glob("*.png"))
    else:
        assert final["data_log_likelihood"] >= final["log_likelihood"] - 0.05 if exact else True
    return final


def check_sample_and_evaluate(run, tmp_path, shape):
    out = tmp_path / "s.npy"
    code, _, err = gankit("sample", run, "-n", "7", "--out", out, "--seed", "3", "--quiet")
    assert code == 0, err
    x = np.load(out)
    assert x.shape == (7, *shape) and x.dtype == np.float32
    again = tmp_path / "t.npy"
    assert gankit("sample", run, "-n", "7", "--out", again, "--seed", "3", "--quiet")[0] == 0
    np.testing.assert_array_equal(x, np.load(again))
    code, _, err = gankit("sample", run, "-n", "3", "--out", tmp_path / "c.npy", "--class", "1")
    assert code == 2 and "not class-conditional" in err and len(err.strip().splitlines()) == 1
    code, out_text, err = gankit("evaluate", run, "-n", "300", "--json")
    assert code == 0, err
    return json.loads(out_text)


def refused(tmp_path, preset, setting, expect):
    assert_refused(tmp_path / "refused", preset, [setting], expect, budget=TINY)


@pytest.fixture(scope="module")
def pca_run(tmp_path_factory):
    return train_tiny(tmp_path_factory, "pca-digits", budget=TINY)


def test_pca_digits_end_to_end(pca_run, tmp_path):
    final = check_family_run(pca_run, "images", exact=True)
    trained = [r for r in rows_of(pca_run) if "train_log_likelihood" in r]
    assert [r["step"] for r in trained] == [1, 2]
    assert trained[0]["grad_norm"] > 1 and trained[1]["grad_norm"] < 1e-12  # one step lands
    metrics = check_sample_and_evaluate(pca_run, tmp_path, (1, 8, 8))
    assert metrics["log_likelihood"] == pytest.approx(final["log_likelihood"], rel=1e-12)


def test_pca_ring_8_end_to_end(tmp_path):
    run = tmp_path / "ring"
    code, _, err = gankit("train", "--preset", "pca-ring-8", "--out", run, *TINY)
    assert code == 0, err
    final = check_family_run(run, "toy", exact=True)
    assert final["log_likelihood"] < final["data_log_likelihood"]  # one Gaussian, eight modes
    check_sample_and_evaluate(run, tmp_path, (2,))


@pytest.mark.parametrize(
    ("setting", "expect"),
    [
        ("game.loss=hinge", "game.loss = 'hinge' means nothing for model.family = 'pca'"),
        ("optim.lr_g=0.1", "optim.lr_g"),
        ("optim.schedule=cosine", "optim.schedule"),
        ("train.batch_size=32", "train.batch_size"),
        ("pca.components=64", "pca.components = 64 must be below the data's dimension 64"),
        ("gmm.components=3", "gmm"),
    ],
)
def test_pca_refusals(tmp_path, setting, expect):
    refused(tmp_path, "pca-digits", setting, expect)


# --- the presets at their default budgets (slow) --------------------------------------------

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def default_run(tmp_path, preset, *extra) -> dict:
    """``preset`` trained at its own budget (seed 0); its final metrics."""
    run = tmp_path / preset
    code, _, err = gankit("train", "--preset", preset, "--out", run, "--quiet", *extra)
    assert code == 0, err
    return json.loads((run / "final_metrics.json").read_text())


@pytest.mark.slow
def test_pca_digits_at_its_budget(tmp_path):
    """Deterministic: the closed form of the digits' training split (measured -21.76 nats per
    held-out image, FID 464 over 100 draws; docs/families/classical.md)."""
    final = default_run(tmp_path, "pca-digits")
    assert final["log_likelihood"] == pytest.approx(-21.755, abs=0.01)
    assert 400 < final["fid_mean_digits"] < 520


@pytest.mark.slow
@pytest.mark.skipif(not MNIST.is_dir(), reason=f"no MNIST files at {MNIST}")
def test_pca_mnist_at_its_budget(tmp_path):
    final = default_run(tmp_path, "pca-mnist", "--set", f"data.path={MNIST}")
    assert np.isfinite(final["log_likelihood"]) and "fid_mnist" in final
