"""The loop's guarantees hold for every model family, not only the GAN: a SIGKILL or a SIGINT at
a random step and ``--resume`` end bit-identical to a run never stopped; a damaged newest
checkpoint is passed over for the newest intact one; a divergence exits 3 in one line. Each is
run for the GAN (gaussian-1d), the VAE (vae-ring-8), InfoGAN (infogan-digits) and PixelCNN
(pixelcnn-digits, with a small net: `SMALL`), on the same
tiny budget."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest
import torch
from reliability_kit import (
    TOY,
    Child,
    assert_same_final_state,
    assert_usable,
    cli,
    write_config,
)

from gankit import api, runs
from gankit import config as config_mod

FAMILIES = {"gan": "gaussian-1d", "vae": "vae-ring-8", "infogan": "infogan-digits"}
FAMILIES["pixelcnn"] = "pixelcnn-digits"
#: a family's budget beside `TOY`: PixelCNN samples pixel by pixel, so a small net keeps its
#: evaluations (200 and 500 samples, 64 passes each) in seconds
SMALL = {"pixelcnn": ["pixelcnn.channels=8", "pixelcnn.layers=1"]}


def budget(family: str) -> list[str]:
    """`TOY` and the family's own `SMALL` settings."""
    return [*TOY, *SMALL.get(family, [])]


#: settings that blow each family up within a few steps
BLOW_UP = {
    "gan": ["optim.name=sgd", "optim.lr_d=1e9", "optim.lr_g=1e9"],
    "vae": ["optim.name=sgd", "vae.lr=1e9"],
    "infogan": ["optim.name=sgd", "optim.lr_d=1e9", "optim.lr_g=1e9"],
    "pixelcnn": ["optim.name=sgd", "pixelcnn.lr=1e9"],
}


def _max_step(run: Path) -> int:
    return max((r["step"] for r in runs.read_metrics(run) if "event" not in r), default=0)


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def straight(request, tmp_path_factory):
    """(family, its preset, the run of `TOY` never interrupted)."""
    family = request.param
    torch.set_num_threads(1)  # the children run on one thread too: the same float sums
    cfg = config_mod.resolve(FAMILIES[family], overrides=budget(family))
    root = tmp_path_factory.mktemp(f"straight-{family}")
    return family, FAMILIES[family], api.train(cfg, root / "straight", progress=False)


def test_the_vae_run_is_the_vae(straight):
    """The parametrisation trains what it says: the VAE's run logs the ELBO, the GAN's D,
    InfoGAN's D and Q."""
    family, _, run = straight
    row = runs.read_metrics(run)[0]
    has_d = family not in ("vae", "pixelcnn")
    assert ("elbo" in row) == (family == "vae") and ("d_loss" in row) == has_d
    assert ("bits_per_dim" in row) == (family == "pixelcnn")
    assert ("q_categorical" in row) == (family == "infogan")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT])
def test_a_signal_at_a_random_step_then_resume_is_bit_identical(tmp_path, straight, signum):
    family, preset, reference = straight
    config = write_config(tmp_path / "run.toml", preset, budget(family))
    run = tmp_path / "run"
    target = random.Random().choice([s for s in range(3, 28) if s % 5])
    child = Child(
        ["train", "--config", config, "--out", run, "--quiet"],
        tmp_path / "logs",
        env={"GANKIT_TEST_PAUSE": "step=0.03"},
    )
    if signum == signal.SIGKILL:
        child.kill_when(lambda: _max_step(run) >= target, what=f"{family} at {target}")
    else:
        deadline_steps = target
        while _max_step(run) < deadline_steps:
            assert child.poll() is None, child.stderr
        child.kill(signal.SIGINT)
        assert child.code == 130, child.stderr
        lines = [line for line in child.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "interrupted by SIGINT" in lines[0], child.stderr
        step = int(lines[0].split(" at step ")[1].split(";")[0])
        assert runs.latest_checkpoint(run).name == f"step-{step}.safetensors"
    assert_usable(run)
    code, _, err = cli("train", "--out", run, "--resume", "--quiet")
    assert code == 0, err
    assert_same_final_state(reference, run)


def test_resume_passes_over_a_damaged_newest_checkpoint(tmp_path, straight):
    family, preset, reference = straight
    cfg = config_mod.resolve(preset, overrides=budget(family))
    run = tmp_path / "run"
    api.train(cfg, run, progress=False, stop_after=17)
    newest = runs.latest_checkpoint(run)
    assert newest.name == "step-17.safetensors"
    data = bytearray(newest.read_bytes())
    data[-5] ^= 0xFF  # one flipped byte: the digest fails
    newest.write_bytes(bytes(data))
    with pytest.warns(Warning, match="step-17"):
        api.train(None, run, progress=False, resume=True)
    assert (run / runs.CHECKPOINTS / "step-17.safetensors.damaged").is_file()
    assert_same_final_state(reference, run)


def test_a_divergence_exits_3_in_one_line_and_keeps_what_was_good(tmp_path, straight):
    family, preset, _ = straight
    config = write_config(tmp_path / "bad.toml", preset, [*budget(family), *BLOW_UP[family]])
    run = tmp_path / "run"
    code, _, err = cli("train", "--config", config, "--out", run, "--quiet")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 3 and len(lines) == 1, err
    assert lines[0].startswith("gankit: diverged at step ") and "Traceback" not in err
    assert not (run / runs.FINAL).exists() and (run / runs.DIAGNOSIS).is_file()
    assert runs.read_metrics(run)[-1]["event"] == "diverged"


def test_sample_and_evaluate_treat_every_family_alike(tmp_path, straight):
    """`gankit sample` and `gankit evaluate` read any family's run; asking a VAE (or an
    unconditional GAN) for a class is refused in one line."""
    import numpy as np

    family, _, reference = straight
    run = Path(tmp_path / "run")
    import shutil

    shutil.copytree(reference, run)
    out = tmp_path / "s.npy"
    code, _, err = cli("sample", run, "-n", "7", "--out", out)
    assert code == 0, err
    shapes = {"gan": (7, 1), "vae": (7, 2), "infogan": (7, 1, 8, 8), "pixelcnn": (7, 1, 8, 8)}
    assert np.load(out).shape == shapes[family]
    code, _, err = cli("sample", run, "-n", "2", "--class", "1", "--out", tmp_path / "c.npy")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "--class 1" in lines[0], err
    code, _, err = cli("evaluate", run, "-n", "300")
    assert code == 0, err
