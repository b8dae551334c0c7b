"""The loop's guarantees hold for pix2pix as for every family (tests/reliability/
test_families.py): a stop or a SIGKILL at a step and ``--resume`` end bit-identical to a run
never stopped (the data and dropout streams, both players and their optimizers are in the
checkpoints; the minibatch shared by D's and G's phases never outlives its step); a divergence
exits 3 in one line; both the L1 + cGAN run and the L1-only ablation."""

from __future__ import annotations

import random

import pytest
import torch

from gankit import api, runs
from gankit import config as config_mod
from reliability.reliability_kit import (
    TOY,
    Child,
    assert_same_final_state,
    assert_usable,
    cli,
    write_config,
)

PRESET = "pix2pix-digits"
SMALL = [*TOY, "train.batch_size=16", "log.final_draws=1"]
VARIANTS = {"cgan": [], "l1": ["pix2pix.adversarial=false"]}


def _max_step(run) -> int:
    return max((r["step"] for r in runs.read_metrics(run) if "event" not in r), default=0)


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def straight(request, tmp_path_factory):
    """(the variant's overrides, its run never interrupted)."""
    torch.set_num_threads(1)  # as the children: the same float sums
    overrides = [*SMALL, *VARIANTS[request.param]]
    cfg = config_mod.resolve(PRESET, overrides=overrides)
    root = tmp_path_factory.mktemp(f"pix2pix-{request.param}")
    return overrides, api.train(cfg, root / "straight", progress=False)


def test_a_stop_then_resume_is_bit_identical(tmp_path, straight):
    overrides, reference = straight
    cfg = config_mod.resolve(PRESET, overrides=overrides)
    run = tmp_path / "run"
    api.train(cfg, run, progress=False, stop_after=17)
    assert runs.latest_checkpoint(run).name == "step-17.safetensors"
    api.train(None, run, progress=False, resume=True)
    assert_same_final_state(reference, run)


def test_a_sigkill_at_a_random_step_then_resume_is_bit_identical(tmp_path, straight):
    overrides, reference = straight
    config = write_config(tmp_path / "run.toml", PRESET, overrides)
    run = tmp_path / "run"
    target = random.Random().choice([s for s in range(3, 28) if s % 5])
    child = Child(
        ["train", "--config", config, "--out", run, "--quiet"],
        tmp_path / "logs",
        env={"GANKIT_TEST_PAUSE": "step=0.03"},
    )
    child.kill_when(lambda: _max_step(run) >= target, what=f"pix2pix at {target}")
    assert_usable(run)
    code, _, err = cli("train", "--out", run, "--resume", "--quiet")
    assert code == 0, err
    assert_same_final_state(reference, run)


def test_a_divergence_exits_3_in_one_line(tmp_path, straight):
    overrides, _ = straight
    blow_up = ["optim.name=sgd", "optim.lr_d=1e9", "optim.lr_g=1e9"]
    config = write_config(tmp_path / "bad.toml", PRESET, [*overrides, *blow_up])
    run = tmp_path / "run"
    code, _, err = cli("train", "--config", config, "--out", run, "--quiet")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 3 and len(lines) == 1, err
    assert lines[0].startswith("gankit: diverged at step ")
    assert not (run / runs.FINAL).exists()
