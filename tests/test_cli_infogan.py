"""InfoGAN end to end on a tiny budget (`gankit train --preset infogan-digits`): a complete run
directory with the code metrics in every evaluation and in the final metrics, the traversal
grids and the report's section; a resumed run equal to a straight one; `gankit sample --code
K`; Q's `classify`; and the refusals, each one line with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from gankit import api, runs
from gankit import config as config_mod
from gankit.data.checks import from_net
from gankit.errors import GankitError
from gankit.recipes.infogan.evaluation import q_codes
from image_cli_kit import (
    assert_refused,
    assert_same_run,
    gankit,
    resumed_like_straight,
    rows_of,
    train_tiny,
)

CODE_KEYS = {"code_class_accuracy", "code_class_matching", "q_heldout_accuracy"}


@pytest.fixture(scope="module")
def info_run(tmp_path_factory):
    return train_tiny(tmp_path_factory, "infogan-digits")


def test_the_run_directory_is_complete_with_the_code_metrics(info_run):
    run = info_run
    for name in ("config.toml", "metrics.jsonl", "final_metrics.json", "report.html"):
        assert (run / name).is_file(), name
    evaluations = [r for r in rows_of(run) if "fid_digits" in r]
    assert [r["step"] for r in evaluations] == [15, 30]
    for r in evaluations:
        assert CODE_KEYS <= set(r)
        assert 0.0 <= r["code_class_accuracy"] <= 1.0 and 0.0 <= r["q_heldout_accuracy"] <= 1.0
        assert sorted(r["code_class_matching"]) == list(range(10))  # one to one
    trained = [r for r in rows_of(run) if "d_loss" in r]
    assert {"q_categorical", "q_continuous", "mi_bound", "g_information"} <= set(trained[-1])
    final = json.loads((run / "final_metrics.json").read_text())
    assert CODE_KEYS | {"q_heldout_accuracy_own_matching", "fid_digits"} <= set(final)
    assert final["q_heldout_accuracy"] <= final["q_heldout_accuracy_own_matching"] + 1e-12
    tensors = load_file(str(runs.latest_checkpoint(run)))
    assert any(k.startswith("Q.") for k in tensors) and any(k.startswith("G_ema.") for k in tensors)


def test_traversals_are_written_and_shown_in_the_report(info_run):
    for j in (0, 1):
        with Image.open(info_run / "infogan" / f"traversal-c{j}.png") as im:
            # 10 rows of 8x8 digits scaled x4 with 2-pixel gaps: 10 * 34 + 2
            assert im.format == "PNG" and im.size[1] == 10 * 34 + 2
    page = (info_run / "report.html").read_text()
    assert "InfoGAN codes and latent traversals" in page
    assert page.count('alt="traversal of code') == 2 and "code_class_accuracy" in page


def test_a_resumed_run_ends_as_the_straight_one(info_run, tmp_path):
    run, _ = resumed_like_straight(info_run, tmp_path, stop_after=17)
    final_a = json.loads((info_run / "final_metrics.json").read_text())
    assert final_a == json.loads((run / "final_metrics.json").read_text())


def test_a_run_with_q_augment_resumes_as_the_straight_one(tmp_path_factory, tmp_path):
    """Q's augmentation stream is saved with the checkpoint and restored: stopped at step 17 and
    resumed, the run ends with the straight run's tensors and logs, bit for bit."""
    augmented = ("--set", "infogan.q_augment=translation")
    straight = train_tiny(tmp_path_factory, "infogan-digits", *augmented)
    resumed, tensors = resumed_like_straight(straight, tmp_path, stop_after=17)
    assert any("q_augment" in key for key in tensors), sorted(tensors)[:20]


def test_resume_refuses_to_switch_q_augment_on_or_off(info_run, tmp_path):
    """The stream lives in the checkpoint only where the key is set: switching it on or off
    in a resume is refused in one line naming the key, and the run is left as it was."""
    before = sorted(p.name for p in (info_run / "checkpoints").iterdir())
    sets = ("--set", "infogan.q_augment=translation")
    code, _, err = gankit("train", "--out", info_run, "--resume", "--steps", 40, *sets)
    assert code == 2 and "infogan.q_augment" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in (info_run / "checkpoints").iterdir()) == before


def test_sample_code_k_gives_g_that_code_only(info_run, tmp_path):
    out = tmp_path / "s.npy"
    code, _, err = gankit("sample", info_run, "-n", 6, "--seed", 3, "--code", 4, "--out", out)
    assert code == 0, err
    loaded = api.load_run(info_run)
    rng = torch.Generator().manual_seed(3)  # the latents as drawn: z, then the codes
    z = torch.randn(6, loaded.config.model.noise_dim, generator=rng)
    torch.randint(10, (6,), generator=rng)  # the drawn code, replaced by 4
    cont = torch.rand(6, 2, generator=rng) * 2 - 1
    with torch.no_grad():
        expected = from_net(loaded.generator(z, torch.full((6,), 4), cont))
    np.testing.assert_allclose(np.load(out), expected.numpy(), atol=1e-6)
    other = tmp_path / "t.npy"
    assert gankit("sample", info_run, "-n", 6, "--seed", 3, "--code", 5, "--out", other)[0] == 0
    assert not np.allclose(np.load(other), np.load(out))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--code", "10"], "--code 10: "),
        (["--class", "1"], "--class 1: "),
        (["--class", "1", "--code", "1"], "exclude each other"),
    ],
)
def test_sample_refusals_are_one_line(info_run, tmp_path, args, expected):
    out = tmp_path / "s.npy"
    code, _, err = gankit("sample", info_run, "-n", 2, *args, "--out", out)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_sample_code_refuses_a_run_of_another_family(tmp_path):
    run = tmp_path / "gan"
    assert gankit("train", "--preset", "gaussian-1d", "--out", run, "--steps", 5, "--quiet")[0] == 0
    code, _, err = gankit("sample", run, "-n", 2, "--code", 1, "--out", tmp_path / "s.npy")
    assert code == 2 and "not an InfoGAN run" in err and len(err.strip().splitlines()) == 1, err


def test_a_finished_run_extended_by_resume_ends_as_the_longer_straight_one(info_run, tmp_path):
    """A run that finished at 15 steps (final evaluation, traversals and report written),
    resumed with ``--steps 30``, holds the 30-step run's tensors bit for bit and logged the same
    rows: the final evaluation draws from its own streams, so a longer budget can be
    measured by extending a finished run (docs/results.md, InfoGAN MNIST at 9,000 and 12,000
    steps)."""
    short = tmp_path / "short"
    cfg = config_mod.resolve(config_file=info_run / "config.toml", overrides=["train.steps=15"])
    api.train(cfg, short, progress=False)
    assert (short / "final_metrics.json").is_file()
    code, _, err = gankit("train", "--out", short, "--resume", "--steps", 30, "--quiet")
    assert code == 0, err
    assert runs.latest_checkpoint(short).name == "step-30.safetensors"
    assert_same_run(info_run, short)
    assert [r["step"] for r in rows_of(short) if "d_loss" in r][-1] == 30


def test_classify_reads_q_code_and_says_the_matching(info_run):
    loaded = api.load_run(info_run)
    images = loaded.data.heldout.images[:20]
    images = np.asarray(images, dtype=np.float32) / (255.0 if images.dtype == np.uint8 else 1.0)
    labels, lines = loaded.classify(images)
    assert labels.dtype == np.int64 and labels.shape == (20,)
    expected = q_codes(loaded.discriminator, loaded.q, torch.from_numpy(images) * 2 - 1)
    assert np.array_equal(labels, expected)
    matching = json.loads((info_run / "final_metrics.json").read_text())["code_class_matching"]
    assert len(lines) == 1 and " ".join(f"{k}->{c}" for k, c in enumerate(matching)) in lines[0]
    with pytest.raises(Exception, match="1x8x8"):
        loaded.classify(np.zeros((2, 1, 28, 28), np.float32))


def test_classify_reads_uint8_as_its_float_form_and_refuses_floats_out_of_range(info_run):
    """The API takes the layouts the command takes: uint8 in [0, 255] is the same images as
    their float32 in [0, 1]; a float array in [0, 255] is refused, never read as bright ink."""
    loaded = api.load_run(info_run)
    as_uint8 = (np.random.default_rng(0).random((30, 1, 8, 8)) * 255).astype(np.uint8)
    from_uint8, _ = loaded.classify(as_uint8)
    from_float, _ = loaded.classify(as_uint8.astype(np.float32) / np.float32(255.0))
    assert np.array_equal(from_uint8, from_float)
    with pytest.raises(GankitError, match=r"IMAGES: .*\[0, 1\]"):
        loaded.classify(as_uint8.astype(np.float32))


@pytest.mark.parametrize(
    ("preset", "sets", "expected"),
    [
        ("infogan-digits", ["model.pack=2"], "model.pack = 2"),
        ("infogan-digits", ["game.unroll=2"], "game.unroll = 2"),
        ("infogan-digits", ["model.conditional=true"], "model.conditional"),
        ("infogan-digits", ["data.name=ring-8"], "toy data"),
        ("digits", ["infogan.categories=5"], "infogan"),
        ("infogan-digits", ["infogan.q_augment=rotation"], "infogan.q_augment"),
    ],
)
def test_misfits_are_refused_before_anything_is_written(tmp_path, preset, sets, expected):
    assert_refused(tmp_path / "run", preset, sets, expected)


def test_gankit_classify_writes_q_codes_and_prints_the_matching(info_run, tmp_path):
    images, labels = tmp_path / "s.npy", tmp_path / "l.npy"
    assert gankit("sample", info_run, "-n", 12, "--code", 3, "--out", images)[0] == 0
    code, _, err = gankit("classify", info_run, images, "--out", labels)
    assert code == 0, err
    written = np.load(labels)
    expected, lines = api.load_run(info_run).classify(np.load(images))
    assert written.dtype == np.int64 and np.array_equal(written, expected)
    assert lines[0] in err and "Hungarian matching on generated images" in err
