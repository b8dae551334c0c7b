"""Boosted runs (AdaGAN: rounds as sub-runs) get the same guarantees as any run: one writer,
SIGINT checkpoints the round in flight at the step it reached, and `--resume` ends where an
uninterrupted run ends (every round's weights bit for bit, the mixture, the final metrics)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import torch
from reliability_kit import Child, cli, rows_of
from safetensors.torch import load_file

from gankit import api, runs
from gankit import config as config_mod

ADAGAN = [
    "game.boost_rounds=2",
    "train.steps=20",
    "log.every=1",
    "log.eval_every=10",
    "log.eval_samples=500",
    "log.final_samples=2500",
    "train.checkpoint_every=10",
]


@pytest.fixture(scope="module")
def straight_boosted(tmp_path_factory):
    torch.set_num_threads(1)
    cfg = config_mod.resolve("ring-8", overrides=ADAGAN)
    return api.train(cfg, tmp_path_factory.mktemp("adagan") / "straight", progress=False)


def test_interrupt_lock_and_resume_of_a_boosted_run(tmp_path, straight_boosted):
    config = tmp_path / "ada.toml"
    config.write_text(config_mod.dumps(config_mod.resolve("ring-8", overrides=ADAGAN)))
    run = tmp_path / "run"
    child = Child(
        ["train", "--config", config, "--out", run, "--quiet"],
        tmp_path / "logs",
        env={"GANKIT_TEST_PAUSE": "step=0.05"},
    )
    round2 = run / "rounds" / "round-2"
    deadline = time.monotonic() + 240
    while max((r["step"] for r in runs.read_metrics(round2) if "d_loss" in r), default=0) < 13:
        assert child.poll() is None and time.monotonic() < deadline, child.stderr
        time.sleep(0.005)
    code, _, err = cli("train", "--out", run, "--resume", "--quiet")
    assert code == 1 and f"{run} is in use by process {child.pid}" in err, err
    os.kill(child.pid, signal.SIGINT)
    assert child.wait() == 130, child.stderr
    line = child.stderr.strip()
    step = int(line.split(" at step ")[1].split(";")[0])
    assert step >= 13 and line == (
        f"gankit: interrupted by SIGINT at step {step}; checkpoint "
        f"{round2 / runs.CHECKPOINTS / f'step-{step}.safetensors'} written; continue with: "
        f"gankit train --out {run} --resume"
    )
    assert not (run / runs.FINAL).exists() and not (run / runs.LOCK).exists()
    code, _, err = cli("train", "--out", run, "--resume", "--quiet")
    assert code == 0, err
    for t in (1, 2):
        sub_a, sub_b = (r / "rounds" / f"round-{t}" for r in (straight_boosted, run))
        ta = load_file(str(runs.latest_checkpoint(sub_a)))
        tb = load_file(str(runs.latest_checkpoint(sub_b)))
        assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta), t
        assert rows_of(sub_a) == rows_of(sub_b)
    for name in ("mixture.json", runs.FINAL):
        assert json.loads((run / name).read_text()) == json.loads(
            (straight_boosted / name).read_text()
        )
    assert rows_of(run) == rows_of(straight_boosted)
