"""`gankit train/sample/evaluate/presets` end to end, in subprocesses, with tiny budgets.

Each subprocess spends most of its time importing torch, so independent commands are started
together (`_run_many`) to keep the file fast on two cores."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gankit import runs

TINY = [
    "--steps",
    "40",
    "--set",
    "log.eval_every=20",
    "--set",
    "log.eval_samples=2000",
    "--set",
    "log.final_samples=5000",
    "--set",
    "train.checkpoint_every=20",
    "--quiet",
]
TIMEOUT = 240


def _env():
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    return env


def _start(args, cwd):
    return subprocess.Popen(
        [sys.executable, "-m", "gankit", *map(str, args)],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_many(commands: dict[str, list], cwd) -> dict[str, subprocess.CompletedProcess]:
    procs = {name: _start(args, cwd) for name, args in commands.items()}
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=TIMEOUT)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def _main(args) -> subprocess.CompletedProcess:
    """``gankit ARGS`` through `gankit.cli.main`, capturing its exit code and output."""
    import contextlib
    import io

    from gankit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse errors
            code = exc.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def _tree_hash(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _rows(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [runs.without_wall_clock(r) for r in rows if "event" not in r]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def run(work):
    result = _run_many({"train": ["train", *TINY, "--out", work / "run"]}, work)["train"]
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{work / 'run'}\n"  # --quiet: the bare path
    return work / "run"


@pytest.fixture(scope="module")
def batch(work, run):
    """Everything that reads RUN without changing it, and the bad inputs, started together."""
    empty = work / "no-checkpoints"
    empty.mkdir()
    shutil.copy(run / "config.toml", empty / "config.toml")
    damaged = work / "damaged"
    (damaged / "checkpoints").mkdir(parents=True)
    shutil.copy(run / "config.toml", damaged / "config.toml")
    (damaged / "checkpoints" / "step-20.safetensors").write_bytes(b"\x00" * 100)
    new = work / "never"
    commands = {
        "again": ["train", "--config", run / "config.toml", "--out", work / "run2", "--quiet"],
        "sample": ["sample", run, "-n", "100", "--out", work / "f.npy"],
        "presets": ["presets"],
        "unknown_key": ["train", *TINY, "--set", "game.los=hinge", "--out", new],
        "n_zero": ["sample", run, "-n", "0", "--out", work / "zero.npy"],
        "resume_damaged_ckpt": ["train", "--out", damaged, "--resume"],
    }
    # The same entry point in this process (`python -m gankit` is `sys.exit(cli.main())`), to
    # spare a torch import per case on a two-core machine.
    in_process = {
        "bad_value": ["train", *TINY, "--set", "optim.lr_d=-1", "--out", new],
        "bad_choice": ["train", *TINY, "--set", "game.loss=hinj", "--out", new],
        "remedy_misfit": [
            "train",
            *TINY,
            "--set",
            "game.loss=hinge",
            "--set",
            "game.label_smoothing=0.1",
            "--out",
            new,
        ],
        "pack_misfit": ["train", *TINY, "--set", "model.pack=3", "--out", new],
        "missing_config": ["train", "--config", work / "nope.toml", "--out", new],
        "sample_no_ckpt": ["sample", empty, "-n", "10", "--out", work / "empty.npy"],
        "evaluate_no_ckpt": ["evaluate", empty, "--json"],
        "sample_not_a_run": [
            "sample",
            work / "nothing-here",
            "-n",
            "10",
            "--out",
            work / "nothing.npy",
        ],
    }
    before_empty = (_tree_hash(empty), _tree_hash(damaged))
    procs = {name: _start(args, work) for name, args in commands.items()}
    results = {name: _main(args) for name, args in in_process.items()}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=TIMEOUT)
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    results["_empty_unchanged"] = (_tree_hash(empty), _tree_hash(damaged)) == before_empty
    return results


def test_train_writes_the_run_directory(run):
    for name in ("config.toml", "metrics.jsonl", "density.png", "curves.png", "final_metrics.json"):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    ckpts = run / "checkpoints"
    assert (ckpts / "step-20.safetensors").is_file() and (ckpts / "step-40.safetensors").is_file()
    assert (ckpts / "latest").read_text().strip() == "step-40.safetensors"
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == ["step-20.npz", "step-40.npz"]
    snap = np.load(run / "snapshots" / "step-40.npz")
    assert snap["samples"].shape == (5000, 1) and snap["d_grid"].shape == snap["grid"].shape

    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    for r in rows:
        for key in (
            "step",
            "d_loss",
            "g_loss",
            "d_real",
            "d_fake",
            "grad_norm_d",
            "grad_norm_g",
            "time",
        ):
            assert isinstance(r[key], (int, float)) and np.isfinite(r[key]), key
        assert 0.0 <= r["d_real"] <= 1.0 and 0.0 <= r["d_fake"] <= 1.0
    evals = {r["step"] for r in rows if "jsd" in r}
    assert evals == {20, 40}
    assert all("ks" in r for r in rows if r["step"] in evals)
    final = json.loads((run / "final_metrics.json").read_text())
    assert final["step"] == 40 and final["samples"] == 5000
    from gankit.config import resolve

    cfg = resolve(config_file=run / "config.toml")
    assert cfg.train.steps == 40 and cfg.log.eval_every == 20 and cfg.preset == "gaussian-1d"


def test_train_from_the_runs_config_reproduces_it(run, batch, work):
    again = batch["again"]
    assert again.returncode == 0, again.stderr
    assert _rows(work / "run2") == _rows(run)
    assert (work / "run2" / "config.toml").read_text() == (run / "config.toml").read_text()


def test_sample(batch, work):
    assert batch["sample"].returncode == 0, batch["sample"].stderr
    arr = np.load(work / "f.npy")
    assert arr.dtype == np.float32 and arr.shape == (100, 1) and np.isfinite(arr).all()


def test_evaluate_json(run):
    before = (run / "metrics.jsonl").read_text()
    result = _run_many({"evaluate": ["evaluate", run, "--json", "-n", "3000"]}, run.parent)
    result = result["evaluate"]
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    for key in (
        "ks",
        "jsd",
        "kl_data_model",
        "kl_model_data",
        "w1",
        "mean",
        "std",
        "skew",
        "kurtosis",
    ):
        assert isinstance(metrics[key], float), key
    assert metrics["samples"] == 3000 and metrics["step"] == 40
    after = (run / "metrics.jsonl").read_text()
    assert after.startswith(before)
    assert json.loads(after.splitlines()[-1])["event"] == "evaluate"


def test_presets(batch):
    assert batch["presets"].returncode == 0
    assert "gaussian-1d" in batch["presets"].stdout


@pytest.mark.parametrize(
    "name, culprit",
    [
        ("unknown_key", "game.loss"),
        ("bad_value", "optim.lr_d"),
        ("bad_choice", "game.loss"),
        ("remedy_misfit", "game.label_smoothing"),
        ("pack_misfit", "model.pack"),
        ("missing_config", "nope.toml"),
        ("n_zero", "-n"),
        ("sample_no_ckpt", "no checkpoint"),
        ("evaluate_no_ckpt", "no checkpoint"),
        ("resume_damaged_ckpt", "no intact checkpoint"),
        ("sample_not_a_run", "nothing-here"),
    ],
)
def test_bad_input_fails_with_one_line_and_writes_nothing(batch, work, name, culprit):
    result = batch[name]
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gankit: error:") and culprit in lines[0]
    assert "Traceback" not in result.stderr
    for path in ("never", "zero.npy", "empty.npy", "nothing.npy", "nothing-here"):
        assert not (work / path).exists(), path
    assert batch["_empty_unchanged"]
    if name == "unknown_key":
        assert "did you mean 'game.loss'" in lines[0]


def test_existing_out_is_refused_and_left_alone(run, batch, work):
    target = work / "run2"
    assert batch["again"].returncode == 0
    npy = work / "f.npy"
    before, before_npy = _tree_hash(target), npy.read_bytes()
    results = _run_many({"train": ["train", *TINY, "--out", target]}, work)
    results["sample"] = _main(["sample", run, "-n", "5", "--out", npy])
    for name, culprit in (("train", str(target)), ("sample", str(npy))):
        result = results[name]
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and culprit in lines[0] and "already" in lines[0], result.stderr
    assert _tree_hash(target) == before
    assert npy.read_bytes() == before_npy
