"""What the image CLI tests share: a tiny training budget and the CLI called in-process."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from gankit import api, runs
from gankit import config as config_mod
from gankit.cli import main

TINY = [
    "--steps",
    "30",
    "--set",
    "log.every=5",
    "--set",
    "log.eval_every=15",
    "--set",
    "log.eval_samples=100",
    "--set",
    "log.final_samples=200",
    "--set",
    "log.final_draws=3",
    "--set",
    "log.grid=20",
    "--set",
    "train.batch_size=16",
    "--set",
    "train.checkpoint_every=15",
    "--set",
    "train.threads=1",
    "--quiet",
]


def gankit(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def train_tiny(tmp_path_factory, preset: str, *extra, budget=TINY) -> Path:
    """``gankit train --preset PRESET`` at a tiny ``budget`` (default `TINY`) and ``extra``
    arguments on one thread into a fresh folder: the run a module's end-to-end tests share."""
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp(preset) / "run"
    code, _, err = gankit("train", "--preset", preset, "--out", run, *budget, *extra)
    assert code == 0, err
    return run


def assert_refused(run: Path, preset: str, sets, expected: str, budget=TINY) -> None:
    """``gankit train --preset PRESET`` with each ``--set`` of ``sets`` is refused: exit 2, one
    line naming ``expected``, and nothing written at ``run``."""
    flags = [a for s in sets for a in ("--set", s)]
    code, _, err = gankit("train", "--preset", preset, "--out", run, *budget, *flags)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not run.exists()


def resumed_like_straight(straight: Path, work: Path, stop_after: int) -> tuple[Path, dict]:
    """``straight``'s config trained again into ``work/run``, stopped after ``stop_after`` steps
    (its newest checkpoint is that step's) and resumed to the end: asserts the two runs' newest
    checkpoints hold the same tensors, bit for bit, and their metrics logs the same numbers
    (wall-clock keys and the resume's event rows aside); returns the resumed run and the
    tensors."""
    cfg = config_mod.resolve(config_file=straight / "config.toml")
    run = work / "run"
    api.train(cfg, run, progress=False, stop_after=stop_after)
    assert runs.latest_checkpoint(run).name == f"step-{stop_after}.safetensors"
    api.train(None, run, progress=False, resume=True)
    return run, assert_same_run(straight, run)


def assert_same_run(straight: Path, resumed: Path) -> dict:
    """The two runs' newest checkpoints hold the same tensors, bit for bit, and their metrics
    logs the same numbers (wall-clock keys and the resume's event rows aside); returns the
    tensors."""
    a = load_file(str(runs.latest_checkpoint(straight)))
    b = load_file(str(runs.latest_checkpoint(resumed)))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    logged = [runs.without_wall_clock(r) for r in runs.read_metrics(straight) if "event" not in r]
    assert logged == [
        runs.without_wall_clock(r) for r in runs.read_metrics(resumed) if "event" not in r
    ]
    return a


def rows_of(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
