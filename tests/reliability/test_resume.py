"""Resuming a run continues it bit for bit: after an in-process stop and after a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from reliability_kit import assert_same_final_state, rows_of

from gankit import api, runs
from gankit.config import dumps, resolve

TINY = [
    "train.steps=40",
    "game.d_steps=1",
    "model.g_width=32",
    "model.d_width=32",
    "log.every=5",
    "log.eval_every=20",
    "log.eval_samples=2000",
    "log.final_samples=3000",
    "train.checkpoint_every=10",
    "train.batch_size=64",
]


@pytest.mark.parametrize(
    "extra",
    [
        [],
        # EMA, a decaying schedule with warm-up, k = 2 and a random penalty exercise every stream
        [
            "model.ema=0.9",
            "optim.schedule=cosine",
            "optim.warmup=5",
            "game.d_steps=2",
            "game.loss=wasserstein",
            "game.penalties={ gp = 10.0 }",
        ],
        # a finite training set: minibatches from the data stream, D's read-outs at evaluations
        ["data.train_size=24"],
    ],
)
def test_stop_and_resume_in_process_matches_a_straight_run(tmp_path, extra):
    cfg = resolve(overrides=TINY + extra)
    straight = api.train(cfg, tmp_path / "straight", progress=False)
    resumed = tmp_path / "resumed"
    api.train(cfg, resumed, progress=False, stop_after=17)  # between checkpoints and logs
    assert runs.latest_checkpoint(resumed).name == "step-17.safetensors"
    assert not (resumed / "final_metrics.json").exists()
    assert max(r["step"] for r in rows_of(resumed)) == 15
    # as if killed after logging step 20 and while writing step 25, before their checkpoint:
    # the resume drops both lines and logs them again
    with open(resumed / runs.METRICS, "a") as fh:
        fh.write(json.dumps({"step": 20, "d_loss": 0.0}) + "\n" + '{"step": 25, "d_lo')
    api.train(cfg, resumed, progress=False, resume=True)
    assert_same_final_state(straight, resumed)


@pytest.mark.slow
def test_sigkill_then_resume_matches_a_straight_run(tmp_path):
    overrides = [
        "train.steps=400",
        "game.d_steps=1",
        "model.g_width=32",
        "model.d_width=32",
        "log.every=10",
        "log.eval_every=100",
        "log.eval_samples=2000",
        "log.final_samples=3000",
        "train.checkpoint_every=50",
        "train.batch_size=64",
    ]
    cfg = resolve(overrides=overrides)
    config_file = tmp_path / "config.toml"
    config_file.write_text(dumps(cfg))
    run = tmp_path / "run"
    env = dict(os.environ, MPLBACKEND="Agg")
    cmd = [
        sys.executable,
        "-m",
        "gankit",
        "train",
        "--config",
        str(config_file),
        "--out",
        str(run),
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed_at = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ckpt = runs.latest_checkpoint(run)
                step = int(ckpt.stem.split("-")[1])
                logged = max((r.get("step", 0) for r in runs.read_metrics(run)), default=0)
            except Exception:
                step, logged = 0, 0
            if step >= 50 and logged >= step + 20:
                os.kill(proc.pid, signal.SIGKILL)
                killed_at = logged
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None and killed_at is None:
            proc.kill()
        proc.communicate(timeout=60)
    assert killed_at is not None and killed_at < 400, "the run ended before it could be killed"
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "final_metrics.json").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "gankit", "train", "--out", str(run), "--resume", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr
    straight = api.train(cfg, tmp_path / "straight", progress=False)
    assert_same_final_state(straight, run)
