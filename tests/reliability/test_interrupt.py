"""Ctrl-C (SIGINT) and SIGTERM to a `gankit train` process: it checkpoints the step it reached,
says so in one line and exits 130 / 143; `--resume` continues from exactly there to the same
end as a run that never stopped. A second signal stops at once, without a new checkpoint."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from reliability_kit import Child, assert_same_final_state, assert_usable, cli, write_config

from gankit import runs


def _max_step(run: Path) -> int:
    return max((r["step"] for r in runs.read_metrics(run) if "event" not in r), default=0)


def _start(args, pause: str) -> subprocess.Popen:
    env = dict(os.environ, GANKIT_TEST_PAUSE=pause, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.Popen(
        [sys.executable, "-m", "gankit", *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigint_and_sigterm_checkpoint_the_current_step_and_resume_exactly(tmp_path, straight_toy):
    rng = random.Random()
    config = write_config(tmp_path / "toy.toml")
    runs_ = {signal.SIGINT: tmp_path / "int", signal.SIGTERM: tmp_path / "term"}
    # both started at once: each spends most of its time importing torch
    procs = {
        sig: _start(["train", "--config", config, "--out", run, "--quiet"], "step=0.05")
        for sig, run in runs_.items()
    }
    targets = {sig: rng.choice([s for s in range(3, 28) if s % 5]) for sig in runs_}
    pending = dict(procs)
    deadline = time.monotonic() + 240
    while pending and time.monotonic() < deadline:
        for sig, proc in list(pending.items()):
            assert proc.poll() is None, f"ended before {sig!r}: {proc.communicate()}"
            if _max_step(runs_[sig]) >= targets[sig]:
                proc.send_signal(sig)
                del pending[sig]
        time.sleep(0.005)
    assert not pending, "timed out before sending the signals"
    for sig, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        run = runs_[sig]
        assert proc.returncode == 128 + sig, (sig, proc.returncode, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in err, err
        step = int(lines[0].split(" at step ")[1].split(";")[0])
        checkpoint = run / runs.CHECKPOINTS / f"step-{step}.safetensors"
        assert lines[0] == (
            f"gankit: interrupted by {sig.name} at step {step}; checkpoint {checkpoint} "
            f"written; continue with: gankit train --out {run} --resume"
        )
        # the checkpoint is the step reached, not the last periodic one, and no row is lost
        assert step >= targets[sig] and runs.latest_checkpoint(run) == checkpoint
        assert _max_step(run) == step
        assert not (run / runs.LOCK).exists()
        assert_usable(run)
        code, _, err = cli("train", "--out", run, "--resume", "--quiet")
        assert code == 0, err
        assert_same_final_state(straight_toy, run)


def test_a_second_signal_stops_at_once_without_a_checkpoint(tmp_path):
    """The first SIGINT waits for the step in flight (here: a checkpoint write held open for a
    second); the second stops at once, and the write in flight leaves no file behind."""
    config = write_config(tmp_path / "toy.toml")
    run = tmp_path / "run"
    child = Child(
        ["train", "--config", config, "--out", run, "--quiet"],
        tmp_path / "logs",
        env={"GANKIT_TEST_PAUSE": "step-10.safetensors=2"},
    )
    deadline = time.monotonic() + 120
    while not any(runs.is_temporary(p.name) for p in (run / runs.CHECKPOINTS).glob(".step-10*")):
        assert child.poll() is None and time.monotonic() < deadline, child.stderr
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGINT)
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGINT)
    assert child.wait() == 130
    lines = child.stderr.strip().splitlines()
    assert len(lines) == 1 and "second signal" in lines[0] and "--resume" in lines[0], lines
    assert [p.name for p in runs.checkpoint_files(run)] == ["step-5.safetensors"]
    assert not any(runs.is_temporary(p.name) for p in run.rglob(".*"))
    assert_usable(run)


def test_an_interrupt_after_training_exits_with_its_code_and_leaves_no_partial_file(tmp_path):
    """Outside the training loop (here: while the report is written, after the final
    checkpoint) a signal stops the command at once: 130 / 143, one line, no partial file."""
    write_config(tmp_path / "toy.toml")
    children = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        run = tmp_path / signum.name
        children[signum] = (
            run,
            Child(
                ["train", "--config", tmp_path / "toy.toml", "--out", run, "--quiet"],
                tmp_path / f"logs-{signum.name}",
                env={"GANKIT_TEST_PAUSE": "report.html=3"},
            ),
        )
    deadline = time.monotonic() + 120
    for signum, (run, child) in children.items():
        while not any(runs.is_temporary(p.name) for p in run.glob(".report.html*")):
            assert child.poll() is None and time.monotonic() < deadline, child.stderr
            time.sleep(0.005)
        os.kill(child.pid, signum)
    for signum, (run, child) in children.items():
        assert child.wait() == 128 + signum
        lines = child.stderr.strip().splitlines()
        assert lines == [
            f"gankit: interrupted by {signum.name}; continue with: gankit train --out {run} "
            "--resume"
        ]
        assert not (run / runs.REPORT).exists() and not list(run.glob(".report.html*"))
        assert_usable(run)
