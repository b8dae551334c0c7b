"""Issue 22, point 2: TensorBoard follows a run as it trains: a run stopped half-way (as an
interruption stops it) already has its curves in ``RUN/tb/``; the end of the run rebuilds the
folder whole."""

from __future__ import annotations

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gankit import api
from gankit import config as config_mod


def _steps(folder, tag):
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return [e.step for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


def test_a_stopped_run_has_its_curves_so_far(tmp_path):
    cfg = config_mod.resolve(
        preset="gaussian-1d", overrides=["train.steps=60", "log.every=10", "log.eval_every=30"]
    )
    run = api.train(cfg, tmp_path / "run", progress=False, stop_after=40)
    assert _steps(run / "tb", "train/d_loss") == [10, 20, 30, 40]
    assert _steps(run / "tb", "eval/jsd") == [30]
    api.train(None, run, progress=False, resume=True)  # finished: rebuilt whole, each step once
    assert _steps(run / "tb", "train/d_loss") == [10, 20, 30, 40, 50, 60]
