"""A full disk, a file-size limit, a read-only file system: one line naming the path, exit code
1, the previous checkpoint intact, nothing half-written left behind, and the run resumable.

Tests run as root, so permissions cannot make a directory unwritable: the file-size limit is
``RLIMIT_FSIZE`` in a forked child (SIGXFSZ ignored, so that the write fails with EFBIG); a
really full and a really read-only file system are a small tmpfs mounted in a user and mount
namespace (``unshare -r -m``), where the kernel allows it (skipped elsewhere)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from reliability_kit import (
    TOY,
    Child,
    assert_same_final_state,
    assert_usable,
    cli,
    temporaries,
    write_config,
)

from gankit import api, runs
from gankit import config as config_mod


@pytest.fixture
def half_run(tmp_path) -> Path:
    """The toy run stopped at step 10 (checkpoints 5 and 10), as an interrupted run is."""
    torch.set_num_threads(1)
    cfg = config_mod.resolve(overrides=TOY)
    return api.train(cfg, tmp_path / "run", progress=False, stop_after=10)


def _one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_checkpoint_past_the_file_size_limit_fails_cleanly(half_run, tmp_path, straight_toy):
    limit = (half_run / runs.CHECKPOINTS / "step-10.safetensors").stat().st_size // 2
    child = Child(["train", "--out", half_run, "--resume", "--quiet"], tmp_path / "c", fsize=limit)
    assert child.wait() == 1
    target = half_run / runs.CHECKPOINTS / "step-15.safetensors"
    assert _one_error(child.stderr) == (
        f"gankit: error: {target}: cannot write (File too large (the file size limit is reached))"
    )
    assert [p.name for p in runs.checkpoint_files(half_run)] == [
        "step-10.safetensors",
        "step-5.safetensors",
    ]
    assert not temporaries(half_run) and not (half_run / runs.LOCK).exists()
    assert_usable(half_run)
    code, _, err = cli("train", "--out", half_run, "--resume", "--quiet")
    assert code == 0, err
    assert_same_final_state(straight_toy, half_run)


def test_a_metrics_line_past_the_limit_is_cut_back_to_whole_lines(half_run, tmp_path):
    metrics = half_run / runs.METRICS
    limit = metrics.stat().st_size + 500  # a row or two more, then EFBIG in mid-line
    child = Child(["train", "--out", half_run, "--resume", "--quiet"], tmp_path / "c", fsize=limit)
    assert child.wait() == 1
    assert _one_error(child.stderr).startswith(f"gankit: error: {metrics}: cannot write (File")
    data = metrics.read_bytes()
    assert data.endswith(b"\n") and len(data) <= limit
    assert all(json.loads(line)["step"] <= 12 for line in data.splitlines())
    assert runs.latest_checkpoint(half_run).name == "step-10.safetensors"
    assert_usable(half_run)


SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json, shutil, subprocess, sys
    import torch
    torch.set_num_threads(1)
    from gankit.cli import main

    mnt, out, config = sys.argv[1:4]

    def gankit(*args):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main([str(a) for a in args])
        return {"code": code, "stderr": err.getvalue()}

    result = {"full": gankit("train", "--config", config, "--out", mnt + "/run", "--quiet")}
    shutil.copytree(mnt + "/run", out + "/full")
    subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
    result["ro_resume"] = gankit("train", "--out", mnt + "/run", "--resume", "--quiet")
    result["ro_fresh"] = gankit("train", "--config", config, "--out", mnt + "/new", "--quiet")
    result["ro_sample"] = gankit("sample", mnt + "/run", "-n", "5", "--out", mnt + "/s.npy")
    result["ro_evaluate"] = gankit("evaluate", mnt + "/run", "-n", "200")
    shutil.copytree(mnt + "/run", out + "/readonly")
    with open(out + "/result.json", "w") as fh:
        json.dump(result, fh)
    """
)


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    probe = "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d"
    try:
        done = subprocess.run(
            ["unshare", "-r", "-m", "sh", "-c", probe], capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def test_a_full_and_a_read_only_file_system(tmp_path):
    if not _namespaces_work():
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare -r -m)")
    config = write_config(tmp_path / "toy.toml")
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    # room for the config, the log and two checkpoints: the third fills the disk
    size = 2 * 211_468 + 96_000
    shell = (
        f"mount -t tmpfs -o size={size} tmpfs {mnt} && "
        f"exec {sys.executable} {script} {mnt} {out} {config}"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    done = subprocess.run(
        ["unshare", "-r", "-m", "sh", "-c", shell],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text())

    full, run = result["full"], mnt / "run"
    assert full["code"] == 1, full
    line = _one_error(full["stderr"])
    assert line.startswith(f"gankit: error: {run}/checkpoints/step-") and line.endswith(
        "cannot write (No space left on device (the disk is full))"
    ), line
    copy = out / "full"
    assert len(runs.checkpoint_files(copy)) == 2 and not temporaries(copy)
    assert_usable(copy)

    assert result["ro_resume"]["code"] == 1
    assert _one_error(result["ro_resume"]["stderr"]) == (
        f"gankit: error: {run / runs.LOCK}: cannot write (Read-only file system)"
    )
    assert result["ro_fresh"]["code"] == 1
    assert _one_error(result["ro_fresh"]["stderr"]) == (
        f"gankit: error: {mnt / 'new'}: cannot write (Read-only file system)"
    )
    assert result["ro_sample"]["code"] == 1
    assert _one_error(result["ro_sample"]["stderr"]) == (
        f"gankit: error: {mnt / 's.npy'}: cannot write (Read-only file system)"
    )
    # an evaluation still prints its metrics; it says why they are not recorded
    assert result["ro_evaluate"]["code"] == 0
    assert result["ro_evaluate"]["stderr"].strip() == (
        f"gankit: warning: {run / runs.LOCK}: cannot write (Read-only file system): the "
        "evaluation is not recorded in its metrics.jsonl"
    )
    assert_usable(out / "readonly")
