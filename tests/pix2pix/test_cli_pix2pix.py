"""pix2pix end to end on a tiny budget: `gankit train --preset pix2pix-digits` trains, evaluates
(FID of the translations, l1_error, translation_agreement in every evaluation row and the final
metrics), writes translations.npz and its report section; `gankit translate` translates in the
task's layout and refuses another family's run, wrong shapes and bad files in one line; the
keys of other families are refused before anything is written."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from gankit import api
from gankit.data.paired import lower_half_blanked
from gankit.recipes.pix2pix.recipe import FINAL_FAMILY_DRAWS, FINAL_FAMILY_SEED, final_draws
from image_cli_kit import TINY, gankit, rows_of

PRESET = ["--preset", "pix2pix-digits"]


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("pix2pix") / "run"
    code, _, err = gankit("train", *PRESET, "--out", run, *TINY)
    assert code == 0, err
    return run


@pytest.fixture(scope="module")
def l1_only_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("pix2pix-l1") / "run"
    code, _, err = gankit(
        "train", *PRESET, "--out", run, *TINY, "--set", "pix2pix.adversarial=false"
    )
    assert code == 0, err
    return run


def test_a_pix2pix_run_logs_both_players_and_evaluates_its_translations(pix2pix_run):
    rows = rows_of(pix2pix_run)
    logged = [r for r in rows if "d_loss" in r]
    assert logged and all({"g_loss", "g_adv", "l1"} <= set(r) for r in logged)
    evaluations = [r for r in rows if "fid_digits" in r]
    assert [r["step"] for r in evaluations] == [15, 30]
    for r in evaluations:
        assert 0.0 <= r["l1_error"] <= 1.0 and 0.0 <= r["translation_agreement"] <= 1.0
    final = json.loads((pix2pix_run / "final_metrics.json").read_text())
    assert {"fid_digits", "l1_error", "translation_agreement"} <= set(final)
    with np.load(pix2pix_run / "translations.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    assert arrays["inputs"].shape == arrays["targets"].shape == (16, 1, 8, 8)
    assert np.all(arrays["inputs"][:, :, 4:, :] == 0)  # lower half blank
    assert not np.array_equal(arrays["translations"], arrays["translations_again"])
    page = (pix2pix_run / "report.html").read_text()
    assert 'id="translations"' in page and "input | translation" in page


def test_the_l1_only_ablation_trains_g_alone(l1_only_run):
    rows = rows_of(l1_only_run)
    logged = [r for r in rows if "g_loss" in r]
    assert logged and not any("d_loss" in r or "g_adv" in r for r in rows)
    ckpt = sorted((l1_only_run / "checkpoints").glob("*.safetensors"))[-1]
    from safetensors import safe_open

    with safe_open(ckpt, "pt") as f:
        assert not any(k.startswith("D.") for k in f.keys())
    final = json.loads((l1_only_run / "final_metrics.json").read_text())
    assert "l1_error" in final and "fid_digits" in final


def test_l1_error_is_the_mean_absolute_error_of_the_held_out_translations(pix2pix_run):
    run = api.load_run(pix2pix_run)
    metrics = run.family_metrics()
    pairs = run.pairs
    inputs = ((pairs.sources + 1) / 2).repeat(FINAL_FAMILY_DRAWS, 1, 1, 1)
    translated = run.translate(inputs, seed=FINAL_FAMILY_SEED)  # every draw in one stream
    targets = ((pairs.targets + 1) / 2).repeat(FINAL_FAMILY_DRAWS, 1, 1, 1)
    expected = (translated - targets).abs().mean().item()
    assert metrics["l1_error"] == pytest.approx(expected, rel=1e-5)
    one_draw = (translated[: len(pairs)] - targets[: len(pairs)]).abs().mean().item()
    assert metrics["l1_error"] != pytest.approx(one_draw, rel=1e-7)  # the draws all count


def test_agreement_by_input_averages_to_the_final_agreement(pix2pix_run):
    run = api.load_run(pix2pix_run)
    by_input = run.agreement_by_input()
    assert by_input.shape == (len(run.pairs),)
    # each input's share of its 10 draws, in tenths
    assert np.allclose(by_input * FINAL_FAMILY_DRAWS, np.round(by_input * FINAL_FAMILY_DRAWS))
    expected = run.family_metrics()["translation_agreement"]
    assert by_input.mean() == pytest.approx(expected, abs=1e-12)


def test_the_final_metrics_translate_every_held_out_input_about_20000_times_in_all():
    assert final_draws(297) == FINAL_FAMILY_DRAWS == 10  # the digits: 2,970 translations
    assert final_draws(10_000) == 2  # MNIST's t10k: 20,000
    assert final_draws(15_000) == 2 and final_draws(20_000) == 1 and final_draws(90_000) == 1
    assert final_draws(1) == 10 and final_draws(0) == 10


def test_translate_writes_the_translations_of_the_inputs(pix2pix_run, tmp_path):
    digits = api.load_run(pix2pix_run).data.heldout.images[:5]
    images = torch.from_numpy(digits).float() / 255.0 if digits.dtype == np.uint8 else None
    images = images if images is not None else torch.from_numpy(digits)
    inputs = ((lower_half_blanked(images * 2 - 1) + 1) / 2).numpy().astype(np.float32)
    np.save(tmp_path / "in.npy", inputs)
    out = tmp_path / "out.npy"
    code, stdout, err = gankit("translate", pix2pix_run, tmp_path / "in.npy", "--out", out)
    assert code == 0, err and "wrote 5 translations" in stdout
    first = np.load(out)
    assert first.shape == (5, 1, 8, 8) and first.dtype == np.float32
    assert 0.0 <= first.min() and first.max() <= 1.0
    again = tmp_path / "again.npy"
    code, _, err = gankit("translate", pix2pix_run, tmp_path / "in.npy", "--out", again)
    assert code == 0 and np.array_equal(np.load(again), first)  # the same seed
    other = tmp_path / "other.npy"
    gankit("translate", pix2pix_run, tmp_path / "in.npy", "--out", other, "--seed", 3)
    assert not np.array_equal(np.load(other), first)  # dropout on at test time
    code, _, err = gankit("translate", pix2pix_run, tmp_path / "in.npy", "--out", out)
    assert code == 2 and "already exists" in err  # nothing overwritten without --force


def _one_line_refusal(code, err, expected):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and expected in lines[0], err


def test_translate_refuses_another_family_and_wrong_inputs(pix2pix_run, digits_run, tmp_path):
    np.save(tmp_path / "ok.npy", np.zeros((2, 1, 8, 8), np.float32))
    out = tmp_path / "out.npy"
    code, _, err = gankit("translate", digits_run, tmp_path / "ok.npy", "--out", out)
    _one_line_refusal(code, err, f"{digits_run} is a gan run: gankit translate reads pix2pix runs")
    np.save(tmp_path / "wide.npy", np.zeros((2, 1, 28, 28), np.float32))
    code, _, err = gankit("translate", pix2pix_run, tmp_path / "wide.npy", "--out", out)
    _one_line_refusal(code, err, "shape (2, 1, 28, 28), but")
    np.save(tmp_path / "flat.npy", np.zeros((2, 64), np.float32))
    code, _, err = gankit("translate", pix2pix_run, tmp_path / "flat.npy", "--out", out)
    _one_line_refusal(code, err, "expected (N, C, H, W) images")
    np.save(tmp_path / "bright.npy", np.full((2, 1, 8, 8), 3.0, np.float32))
    code, _, err = gankit("translate", pix2pix_run, tmp_path / "bright.npy", "--out", out)
    _one_line_refusal(code, err, "bright.npy")
    (tmp_path / "junk.npy").write_bytes(b"not an array")
    code, _, err = gankit("translate", pix2pix_run, tmp_path / "junk.npy", "--out", out)
    _one_line_refusal(code, err, "not a readable .npy array")
    code, _, err = gankit(
        "translate", pix2pix_run, tmp_path / "ok.npy", "--out", tmp_path / "o.txt"
    )
    _one_line_refusal(code, err, "must end in .npy")
    assert not out.exists()


def test_sample_of_a_pix2pix_run_is_translations_and_a_class_is_refused(pix2pix_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(pix2pix_run, run)
    code, _, err = gankit("sample", run, "-n", 7, "--out", tmp_path / "s.npy")
    assert code == 0, err and np.load(tmp_path / "s.npy").shape == (7, 1, 8, 8)
    code, _, err = gankit("sample", run, "-n", 2, "--class", 1, "--out", tmp_path / "c.npy")
    _one_line_refusal(code, err, "is a pix2pix run")
    code, out, err = gankit("evaluate", run, "-n", 300)
    assert code == 0 and "l1_error" in out and "translation_agreement" in out, err


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["game.penalties.r1=1.0"], "game.penalties"),
        (["model.arch=dcgan"], "model.arch = 'dcgan' means nothing for model.family = 'pix2pix'"),
        (["game.loss=wasserstein"], "needs a Lipschitz critic"),
        (["game.loss=bogus"], "game.loss: unknown loss 'bogus'"),
        (["pix2pix.task=blur"], "pix2pix.task"),
        (["data.name=ring-8"], "toy data"),
    ],
)
def test_misfits_are_refused_before_anything_is_written(tmp_path, overrides, expected):
    sets = [a for o in overrides for a in ("--set", o)]
    run = tmp_path / "run"
    code, _, err = gankit("train", *PRESET, "--out", run, *TINY, *sets)
    _one_line_refusal(code, err, expected)
    assert not run.exists()


def test_the_pix2pix_section_belongs_to_pix2pix_runs_only(tmp_path):
    run = tmp_path / "run"
    code, _, err = gankit(
        "train", "--preset", "digits", "--set", "pix2pix.task=edges", "--out", run
    )
    _one_line_refusal(code, err, "model.family = 'pix2pix', not 'gan'")
    assert not run.exists()


def test_the_edges_task_trains(tmp_path):
    run = tmp_path / "run"
    code, _, err = gankit(
        "train", *PRESET, "--out", run, *TINY, "--set", "pix2pix.task=edges",
        "--set", "log.eval_every=0",
    )  # fmt: skip
    assert code == 0, err
    assert 'task = "edges"' in (run / "config.toml").read_text()
    assert any("l1" in r for r in rows_of(run))
