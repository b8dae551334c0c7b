"""One writer per run directory: a second `gankit train` on the same `--out` is refused at once,
naming the holder's process id, and the first is unharmed; a lock left by a killed process is
taken over; an evaluation while the run trains is not written into it."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from reliability_kit import Child, assert_same_final_state, cli, tree_state, write_config

from gankit import runs
from gankit.errors import GankitWarning
from gankit.runs.lock import read_pid


def _wait(condition, child: Child, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert child.poll() is None, child.stderr
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_second_writer_is_refused_at_once_and_the_first_is_unharmed(tmp_path, straight_toy):
    config = write_config(tmp_path / "toy.toml")
    run = tmp_path / "run"
    first = Child(
        ["train", "--config", config, "--out", run, "--quiet"],
        tmp_path / "first",
        env={"GANKIT_TEST_PAUSE": "step=0.05"},
    )
    _wait(lambda: runs.checkpoint_files(run), first)
    assert read_pid(run / runs.LOCK) == first.pid
    attempts = {
        "same": ["train", "--config", config, "--out", run, "--quiet"],
        "force": ["train", "--config", config, "--out", run, "--force", "--quiet"],
        "resume": ["train", "--out", run, "--resume", "--quiet"],
    }
    for name, args in attempts.items():
        started = time.monotonic()
        code, out, err = cli(*args)
        assert code == 1, (name, err)
        assert time.monotonic() - started < 5, name  # at once, not after the first ends
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith(f"gankit: error: {run} is in use by process {first.pid}")
        assert first.poll() is None, f"{name}: the first run stopped"
    # an evaluation reads the newest checkpoint but does not write into the busy run
    code, out, err = cli("evaluate", run, "-n", "200", "--json")
    assert code == 0, err
    assert "in use by process" in err and "not recorded" in err
    assert first.wait() == 0, first.stderr
    assert "warning" not in first.stderr
    assert not (run / runs.LOCK).exists()
    assert_same_final_state(straight_toy, run)


def test_a_stale_lock_of_a_killed_run_is_taken_over(tmp_path, straight_toy):
    config = write_config(tmp_path / "toy.toml")
    run = tmp_path / "run"
    child = Child(
        ["train", "--config", config, "--out", run, "--quiet"],
        tmp_path / "killed",
        env={"GANKIT_TEST_PAUSE": "step=0.05"},
    )
    _wait(lambda: len(runs.checkpoint_files(run)) >= 2, child)
    child.kill(signal.SIGKILL)
    assert read_pid(run / runs.LOCK) == child.pid  # left behind, its holder dead
    assert runs.lock_holder(run) is None
    code, out, err = cli("train", "--out", run, "--resume", "--quiet")
    assert code == 0, err
    assert f"took over the lock left by process {child.pid}" in err
    assert not (run / runs.LOCK).exists()
    assert_same_final_state(straight_toy, run)


def test_a_lock_naming_a_live_process_that_holds_nothing_is_not_a_holder(tmp_path, toy_copy):
    """A stale lock whose process id was reused by an unrelated live process: the flock decides
    (nobody holds it), so the run is not reported busy."""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (toy_copy / runs.LOCK).write_text(f"{sleeper.pid}\n")
        assert runs.lock_holder(toy_copy) is None
        before = tree_state(toy_copy)
        with pytest.warns(GankitWarning, match=f"took over the lock left by process {sleeper.pid}"):
            lock = runs.RunLock(toy_copy).acquire()
        with lock:
            assert read_pid(lock.path) == os.getpid()
        assert not (toy_copy / runs.LOCK).exists()
        del before[str(toy_copy / runs.LOCK)]
        after = tree_state(toy_copy)
        assert {k: v for k, v in after.items() if k != str(toy_copy)} == {
            k: v for k, v in before.items() if k != str(toy_copy)
        }
    finally:
        sleeper.kill()
        sleeper.wait()
