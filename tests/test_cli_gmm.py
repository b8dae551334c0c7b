"""The Gaussian mixture (``model.family = "gmm"``) end to end: `gankit train --preset
gmm-digits` and ``gmm-ring-8`` at a tiny budget, EM one iteration a step (the fit set's
log-likelihood never falls), the held-out ``log_likelihood``, a resumed run equal to a straight
one, `gankit sample` and `evaluate`, and the refusals."""

from __future__ import annotations

import pytest
from safetensors.torch import load_file

from gankit import runs
from image_cli_kit import gankit, resumed_like_straight, rows_of, train_tiny
from test_cli_pca import TINY, check_family_run, check_sample_and_evaluate, default_run, refused

STEPS = ["--steps", "6", "--set", "gmm.components=4"]


@pytest.fixture(scope="module")
def gmm_run(tmp_path_factory):
    return train_tiny(tmp_path_factory, "gmm-digits", *STEPS, budget=TINY)


def test_gmm_digits_end_to_end(gmm_run, tmp_path):
    check_family_run(gmm_run, "images", exact=True)
    lls = [r["train_log_likelihood"] for r in rows_of(gmm_run) if "train_log_likelihood" in r]
    assert len(lls) == 6 and all(b >= a - 1e-9 for a, b in zip(lls[1:], lls[2:], strict=False))
    tensors = load_file(str(runs.latest_checkpoint(gmm_run)))
    assert tensors["gmm.covariances"].shape == (4, 64, 64)
    assert int(tensors["gmm.fitted"]) == 1
    check_sample_and_evaluate(gmm_run, tmp_path, (1, 8, 8))


def test_a_resumed_gmm_run_ends_as_the_straight_one(gmm_run, tmp_path):
    resumed_like_straight(gmm_run, tmp_path, stop_after=3)


def test_gmm_ring_8_covers_the_modes(tmp_path):
    run = tmp_path / "ring"
    code, _, err = gankit(
        "train", "--preset", "gmm-ring-8", "--out", run, *TINY, "--steps", "30",
        "--set", "gmm.toy_points=3000",
    )  # fmt: skip
    assert code == 0, err
    final = check_family_run(run, "toy", exact=True)
    assert final["modes_covered"] == 8
    assert final["log_likelihood"] == pytest.approx(final["data_log_likelihood"], abs=0.05)
    check_sample_and_evaluate(run, tmp_path, (2,))


def test_diagonal_covariances(tmp_path):
    run = tmp_path / "diag"
    code, _, err = gankit(
        "train", "--preset", "gmm-digits", "--out", run, *TINY, *STEPS,
        "--set", "gmm.covariance=diag",
    )  # fmt: skip
    assert code == 0, err
    assert load_file(str(runs.latest_checkpoint(run)))["gmm.covariances"].shape == (4, 64)


@pytest.mark.parametrize(
    ("setting", "expect"),
    [
        ("game.d_steps=2", "game.d_steps = 2 means nothing for model.family = 'gmm'"),
        ("optim.name=sgd", "optim.name"),
        ("train.batch_size=8", "train.batch_size"),
        ("gmm.covariance=spherical", "gmm.covariance"),
        ("pca.components=3", "pca"),
    ],
)
def test_gmm_refusals(tmp_path, setting, expect):
    refused(tmp_path, "gmm-digits", setting, expect)


@pytest.mark.slow
def test_gmm_digits_at_its_budget(tmp_path):
    """Seeds 0-4 measured FID 77-94 over 100 draws and 70-75 nats per held-out image
    (docs/families/classical.md): seed 0 within a margin of them."""
    final = default_run(tmp_path, "gmm-digits")
    assert final["fid_mean_digits"] < 130 and final["log_likelihood"] > 60


@pytest.mark.slow
def test_gmm_ring_8_at_its_budget(tmp_path):
    final = default_run(tmp_path, "gmm-ring-8")
    assert final["modes_covered"] == 8 and final["high_quality"] > 0.95
