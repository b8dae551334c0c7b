"""Issue 22, point 4: a labelled image set too small for FID in its feature space is refused
before any work (no classifier trained, nothing written), with the counts in the message."""

from __future__ import annotations

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


def test_a_small_set_trains_without_evaluation(tmp_path, monkeypatch):
    """`log.eval_every = 0`: no evaluation during training or at its end, so no size check
    and no feature network; the run has its checkpoints, diagnosis and report, no final
    metrics."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    data = tmp_path / "small.npz"
    np.savez(
        data,
        images=rng.integers(0, 255, size=(60, 1, 8, 8), dtype=np.uint8),
        labels=np.arange(60) % 3,
    )
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
