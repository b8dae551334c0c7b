"""Kill at any moment (SIGKILL), then `--resume`: the run directory stays usable after every kill
(no half-written file under its final name, no torn line read as data) and the resumed run ends
bit-identical to one that never stopped.

One run directory is killed again and again at points drawn at random (seeded: the seed is in
every failure message; ``GANKIT_KILL_SEED=N`` replays one): before the first checkpoint, inside
a checkpoint write, between checkpoints, inside a snapshot write and inside the report's write.
``GANKIT_TEST_PAUSE`` (`gankit.runs`) holds a write open between its complete temporary file
and the rename, so that the kill lands inside it. The children are forks of this process
(`reliability_kit.Child`), so each kill costs no interpreter start."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from reliability_kit import DIGITS, Child, assert_same_final_state, assert_usable, write_config

from gankit import runs

SEED = int(os.environ.get("GANKIT_KILL_SEED", time.time_ns() % 100_000))


def _max_step(run: Path) -> int:
    return max((r["step"] for r in runs.read_metrics(run) if "event" not in r), default=0)


def _temp(folder: Path, pattern: str) -> bool:
    return any(runs.is_temporary(p.name) for p in folder.glob(pattern))


def _checkpoint_steps(run: Path) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in runs.checkpoint_files(run))


def test_kill_at_random_points_then_resume_is_bit_identical(tmp_path, straight_toy):
    rng = random.Random(SEED)
    note = f"(GANKIT_KILL_SEED={SEED})"
    config = write_config(tmp_path / "toy.toml")
    run = tmp_path / "run"
    fresh = ["train", "--config", config, "--out", run, "--quiet"]
    resume = ["train", "--out", run, "--resume", "--quiet"]
    slow = "step=0.03"
    landed = []

    def phase(name, args, condition, pause=""):
        child = Child(args, tmp_path / name, env={"GANKIT_TEST_PAUSE": ",".join([slow, pause])})
        child.kill_when(condition, what=f"{name} {note}")
        landed.append((name, _checkpoint_steps(run), _max_step(run)))
        assert_usable(run)
        return child

    # 1. before the first checkpoint (at step 5): after 1 to 4 logged steps
    first = rng.randint(1, 4)
    phase("before-checkpoint", fresh, lambda: _max_step(run) >= first)
    assert not runs.checkpoint_files(run), note

    # 2. inside the write of checkpoint 5, 10 or 15 (its temporary file is complete, unrenamed)
    target = 5 * rng.randint(1, 3)
    phase(
        "in-checkpoint",
        resume,
        lambda: _temp(run / runs.CHECKPOINTS, f".step-{target}.safetensors.*"),
        pause="step-*.safetensors=0.5",
    )
    assert not (run / runs.CHECKPOINTS / f"step-{target}.safetensors").exists(), note

    # 3. between two checkpoints, at a random logged step past the newest one
    newest = max(_checkpoint_steps(run), default=0)
    between = rng.choice([s for s in range(newest + 1, 29) if s % 5])
    phase("between-checkpoints", resume, lambda: _max_step(run) >= between)

    # 4. inside a snapshot's write (RUN/snapshots/step-N.npz, at an evaluation step)
    phase(
        "in-snapshot",
        resume,
        lambda: _temp(run / runs.SNAPSHOTS, ".step-*.npz.*"),
        pause="step-*.npz=0.5",
    )

    # 5. inside the report's write, after the final checkpoint
    phase("in-report", resume, lambda: _temp(run, ".report.html.*"), pause="report.html=0.5")
    assert not (run / runs.REPORT).exists()

    # a line cut short by a kill in the middle of a write is never read as data
    with open(run / runs.METRICS, "ab") as fh:
        fh.write(b'{"step": 31, "d_lo')
    assert_usable(run)

    child = Child(resume, tmp_path / "last")
    assert child.wait() == 0, child.stderr
    assert "Traceback" not in child.stderr
    assert not any(runs.is_temporary(p.name) for p in run.rglob(".*")), note
    assert not (run / runs.LOCK).exists()
    assert_same_final_state(straight_toy, run)
    assert (run / runs.REPORT).is_file() and (run / runs.DIAGNOSIS).is_file()
    print(f"{note} kills landed at (phase, checkpoints, last logged step): {landed}")


def test_kill_an_image_run_inside_its_writes_then_resume(tmp_path, straight_digits):
    """An image run writes checkpoints, sample grids (samples/step-N.png), snapshots and
    nearest.npz: killed inside the first, a grid and nearest.npz, it resumes to the same end."""
    config = write_config(tmp_path / "digits.toml", "digits", DIGITS)
    run = tmp_path / "run"
    fresh = ["train", "--config", config, "--out", run, "--quiet"]
    resume = ["train", "--out", run, "--resume", "--quiet"]
    cases = [
        (fresh, "step-*.safetensors", lambda: _temp(run / runs.CHECKPOINTS, ".step-5.*")),
        (resume, "step-*.png", lambda: _temp(run / "samples", ".step-*.png.*")),
        (resume, "nearest.npz", lambda: _temp(run, ".nearest.npz.*")),
    ]
    for i, (args, pause, condition) in enumerate(cases):
        child = Child(args, tmp_path / str(i), env={"GANKIT_TEST_PAUSE": f"{pause}=0.5"})
        child.kill_when(condition, what=f"inside {pause}")
        assert_usable(run)
    assert not (run / runs.FINAL).exists()
    child = Child(resume, tmp_path / "last")
    assert child.wait() == 0, child.stderr
    assert_same_final_state(straight_digits, run)
    near = json.loads((run / runs.FINAL).read_text())
    assert near["step"] == 10 and (run / "nearest.npz").is_file()
