"""Issue 22, point 4: a labelled image set too small for FID in its feature space is refused
before any work (no classifier trained, nothing written), with the counts in the message."""

from __future__ import annotations

import json

import numpy as np
from reliability_kit import cli, tree_state


def test_a_small_labelled_set_is_refused_before_its_classifier_trains(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANKIT_CACHE", str(cache))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(300, 1, 16, 16), dtype=np.uint8)
    labels = np.arange(300) % 3
    data = tmp_path / "small.npz"
    np.savez(data, images=images, labels=labels)
    before = tree_state(tmp_path)
    code, _, err = cli(
        "train",
        "--preset",
        "image-folder",
        "--set",
        "data.name='arrays'",
        "--set",
        f"data.path='{data}'",
        "--set",
        "data.channels=1",
        "--set",
        "data.image_size=16",
        "--out",
        tmp_path / "run",
        "--quiet",
    )
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert "has 30 of its 300 images" in lines[0] and "needs at least 129" in lines[0], err
    assert "before any feature network trains" in lines[0]
    assert tree_state(tmp_path) == before and not cache.exists()


def small_labelled_set(folder, n: int):
    """``folder/small.npz``: ``n`` random 8x8 one-channel images in 3 classes."""
    rng = np.random.default_rng(0)
    data = folder / "small.npz"
    images = rng.integers(0, 255, size=(n, 1, 8, 8), dtype=np.uint8)
    np.savez(data, images=images, labels=np.arange(n) % 3)
    return data


def test_a_small_set_trains_without_evaluation(tmp_path, monkeypatch):
    """`log.eval_every = 0`: no evaluation during training or at its end, so no size check
    and no feature network; the run has its checkpoints, diagnosis and report, no final
    metrics."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    data = small_labelled_set(tmp_path, 60)
    run = tmp_path / "run"
    code, out, err = cli(
        "train",
        "--preset",
        "digits-unconditional",
        "--set",
        "data.name='arrays'",
        "--set",
        f"data.path='{data}'",
        "--set",
        "log.eval_every=0",
        "--steps",
        "20",
        "--set",
        "log.final_draws=1",
        "--out",
        run,
    )
    assert code == 0, err
    assert (run / "report.html").is_file() and (run / "diagnosis.json").is_file()
    assert not (run / "final_metrics.json").exists() and not (tmp_path / "cache").exists()
    assert "diagnosis:" in out and "Traceback" not in err


def test_a_set_too_small_for_fid_trains_with_the_cheaper_evaluation(tmp_path, monkeypatch):
    """`log.fid = false` (issue 22, point 4): 300 digit-sized images (30 held out), too few
    for FID in the 64-d digits space, are refused with the way out in the message; taking it,
    the run is evaluated by KID, PRDC and the class histogram, KID its headline, and no FID is
    logged anywhere."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    data = small_labelled_set(tmp_path, 300)
    small = ["--set", "data.name='arrays'", "--set", f"data.path='{data}'"]
    small += ["--set", "log.features='digits'", "--steps", "20", "--set", "log.every=5"]
    code, _, err = cli(
        "train", "--preset", "digits-unconditional", *small, "--out", tmp_path / "refused"
    )
    assert code == 2 and "has 30 of its 300 images" in err and "needs at least 65" in err, err
    assert "--set log.fid=false" in err and not (tmp_path / "refused").exists()
    small += ["--set", "log.eval_every=10", "--set", "log.eval_samples=50"]
    small += ["--set", "log.final_samples=60", "--set", "log.final_draws=3"]
    run = tmp_path / "run"
    cheaper = [*small, "--set", "log.fid=false", "--out", run, "--json"]
    code, out, err = cli("train", "--preset", "digits-unconditional", *cheaper)
    assert code == 0, err
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evaluations = [r for r in rows if "kid_digits" in r]
    assert [r["step"] for r in evaluations] == [10, 20]
    assert all(isinstance(r["precision_digits"], float) for r in evaluations)
    assert not any(k.startswith("fid_") for r in rows for k in r)
    final = json.loads((run / "final_metrics.json").read_text())
    assert final["samples"] == 60 and isinstance(final["kid_digits"], float)
    assert "one_nn_accuracy_digits" in final and not any(k.startswith("fid") for k in final)
    checks = json.loads((run / "diagnosis.json").read_text())
    assert "Traceback" not in err and (run / "report.html").is_file() and checks
