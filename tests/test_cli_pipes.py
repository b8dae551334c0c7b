"""`gankit` in pipes and scripts (issue 22, point 8): a closed pipe ends a command quietly,
``--quiet`` prints nothing but errors, ``--json`` gives one object on stdout."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import numpy as np

from gankit.cli import main

TINY = [
    "--steps", "20",
    "--set", "log.eval_every=10",
    "--set", "log.eval_samples=500",
    "--set", "log.final_samples=1000",
    "--set", "train.checkpoint_every=10",
]  # fmt: skip


def gankit(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def test_a_closed_pipe_ends_presets_quietly():
    gankit_cmd = f"{sys.executable} -m gankit"
    result = subprocess.run(
        ["bash", "-c", f'{gankit_cmd} presets --keys | head -1; echo "rc=${{PIPESTATUS[0]}}"'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[1] in ("rc=0", "rc=141"), result.stdout
    assert result.stderr == "", result.stderr


def test_presets_json_lists_every_preset():
    code, out, err = gankit("presets", "--json")
    assert code == 0 and err == ""
    presets = json.loads(out)["presets"]
    names = [p["name"] for p in presets]
    assert "gaussian-1d" in names and all(p["description"] for p in presets)
    assert [p["name"] for p in presets if p["default"]] == ["gaussian-1d"]


def test_train_quiet_and_json_then_sample_json(tmp_path):
    code, out, err = gankit("train", "--out", tmp_path / "q", *TINY, "--quiet")
    assert code == 0, err
    assert out == f"{tmp_path / 'q'}\n"  # --quiet: the bare path, no label
    code, out, err = gankit("train", "--out", tmp_path / "j", *TINY, "--quiet", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["run"] == str(tmp_path / "j")
    assert isinstance(result["final_metrics"], dict) and result["final_metrics"]
    assert result["diagnosis"]["summary"].startswith("diagnosis:")
    assert isinstance(result["diagnosis"]["failures"], list)

    npy = tmp_path / "s.npy"
    code, out, err = gankit("sample", tmp_path / "j", "-n", "7", "--out", npy, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["shape"] == list(np.load(npy).shape) and result["n"] == 7
    assert result["npy"] == str(npy) and result["classes"] is None
    code, out, err = gankit("sample", tmp_path / "j", "-n", "3", "--out", npy, "--force", "-q")
    assert (code, out, err) == (0, "", "")


def test_sample_help_explains_run_and_seed():
    code, out, _ = gankit("sample", "--help")
    assert code == 0
    assert "run directory" in out and "same samples" in out
