"""Each callback around Algorithm 1 on its own (a stand-in trainer), then their order in a fit."""

from __future__ import annotations

import json
import math
import sys
import time
from types import SimpleNamespace

import pytest
import torch

from gankit import config as config_mod
from gankit.data.sources import build_data
from gankit.recipes.gan import build_checked_models, gan_loop
from gankit.train.callbacks import (
    Callback,
    Checkpoints,
    Evaluation,
    LogHook,
    MetricsLog,
    Progress,
    Snapshots,
    StopOnDivergence,
    standard_callbacks,
)


class FakeTrainer:
    """What callbacks read of the loop: the step, the total, the trainable's progress keys,
    stop() and save()."""

    def __init__(self, steps=10, end=None):
        self.total = steps
        self.trainable = SimpleNamespace(progress=(("d", "d_loss"), ("g", "g_loss")))
        self.step = 0
        self.end = end or steps
        self.stopped_reason = None
        self.saved = []

    def stop(self, reason):
        self.stopped_reason = reason

    def save(self):
        self.saved.append(self.step)


def test_stop_on_divergence_marks_the_row_and_stops():
    t, cb = FakeTrainer(), StopOnDivergence()
    t.step = 3
    row = {"step": 3, "d_loss": 0.5, "g_loss": 1.0}
    cb.on_log(t, row)
    assert "event" not in row and t.stopped_reason is None
    for bad in (math.nan, math.inf, -math.inf):
        t, row = FakeTrainer(), {"step": 4, "d_loss": 0.5, "g_loss": bad}
        cb.on_log(t, row)
        assert row["event"] == "diverged" and "non-finite" in t.stopped_reason


def test_evaluation_and_snapshots_at_their_steps_and_the_last():
    t = FakeTrainer(steps=25)
    calls, writes = [], []
    ev = Evaluation(lambda tr: calls.append(tr.step) or {"jsd": 0.1 * tr.step}, every=10)
    sn = Snapshots(lambda tr: writes.append(tr.step), every=10)
    for step in range(1, 26):
        t.step = step
        row = {"step": step}
        ev.on_log(t, row)
        sn.on_log(t, row)
        assert ("jsd" in row) == (step in (10, 20, 25))
    assert calls == writes == [10, 20, 25]
    assert ev.latest == {"jsd": 2.5}


def test_no_evaluation_of_a_row_that_is_an_event():
    t = FakeTrainer(steps=10)
    t.step = 10
    ev = Evaluation(lambda tr: pytest.fail("evaluated a diverged row"), every=5)
    ev.on_log(t, {"step": 10, "event": "diverged"})


def test_metrics_log_appends_rows_with_time(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n')
    t, cb = FakeTrainer(), MetricsLog(path)
    cb.on_fit_start(t)
    cb.on_log(t, {"step": 2, "d_loss": 0.25})
    assert len(path.read_text().splitlines()) == 2  # flushed at once: a kill keeps the row
    cb.on_fit_end(t)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[1]["d_loss"] == 0.25 and rows[1]["time"] >= 0
    cb.on_fit_end(t)  # closing twice is harmless


def test_checkpoints_every_n_and_at_the_end_but_not_after_a_stop():
    t, cb = FakeTrainer(steps=100, end=25), Checkpoints(every=10)
    for step in range(1, 26):
        t.step = step
        cb.on_step_end(t)
    assert t.saved == [10, 20, 25]
    t.step = 30
    t.stopped_reason = "diverged"
    cb.on_step_end(t)
    assert t.saved == [10, 20, 25]


def test_progress_shows_the_headline_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    t, cb = FakeTrainer(steps=3), Progress(headline="fid_digits")
    cb.on_fit_start(t)
    cb.on_log(t, {"step": 1, "d_loss": 0.5, "g_loss": 1.5, "fid_digits": 12.25})
    assert cb.shown == {"d": "0.500", "g": "1.500", "fid_digits": "12.25"}
    cb.on_step_end(t)
    cb.on_fit_end(t)
    assert cb.bar is None
    quiet = Progress(enabled=False)
    quiet.on_fit_start(t)
    assert quiet.bar is None


def test_standard_order():
    cfg = config_mod.resolve(preset="gaussian-1d")
    names = [
        type(c).__name__
        for c in standard_callbacks(
            cfg, "/nonexistent", evaluate=dict, snapshot=print, on_log=print, progress=False
        )
    ]
    assert names == [
        "StopOnDivergence",
        "Evaluation",
        "Snapshots",
        "MetricsLog",
        "LogHook",
        "Progress",
        "Checkpoints",
    ]


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, trainer):
        self.events.append(("start", trainer.step))

    def on_log(self, trainer, row):
        self.events.append(("log", row["step"]))

    def on_step_end(self, trainer):
        self.events.append(("end", trainer.step))

    def on_fit_end(self, trainer):
        self.events.append(("fit_end", trainer.step))


def _trainer(tmp_path, callbacks, overrides=()):
    cfg = config_mod.resolve(
        preset="gaussian-1d",
        overrides=["train.steps=6", "log.every=2", "train.batch_size=16", *overrides],
    )
    data = build_data(cfg)
    g, d = build_checked_models(cfg, data)
    return gan_loop(cfg, data.source, g, d, tmp_path, torch.device("cpu"), callbacks)


def test_a_fit_calls_the_callbacks_in_order(tmp_path):
    rec = Recorder()
    hook_rows = []
    trainer = _trainer(tmp_path, [rec, LogHook(hook_rows.append)])
    assert trainer.fit(stop_after=5) == 5
    assert rec.events == [
        ("start", 0),
        ("end", 1),
        ("log", 2),
        ("end", 2),
        ("end", 3),
        ("log", 4),
        ("end", 4),
        ("end", 5),
        ("fit_end", 5),
    ]
    assert [r["step"] for r in hook_rows] == [2, 4]
    assert {"d_loss", "g_loss", "lr_d", "grad_norm_g"} <= set(hook_rows[0])


def test_fit_end_runs_when_training_raises(tmp_path):
    rec = Recorder()

    class Boom(Callback):
        def on_step_end(self, trainer):
            if trainer.step == 2:
                raise RuntimeError("boom")

    trainer = _trainer(tmp_path, [rec, Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit()
    assert rec.events[-1] == ("fit_end", 2)


def test_a_callback_can_stop_the_fit(tmp_path):
    class StopAt3(Callback):
        def on_step_end(self, trainer):
            if trainer.step == 3:
                trainer.stop("enough")

    trainer = _trainer(tmp_path, [StopAt3()])
    assert trainer.fit() == 3 and trainer.stopped_reason == "enough"


def test_without_a_terminal_progress_writes_a_line_every_period(monkeypatch):
    """A log file (no terminal) gets a progress line at least every ``every_seconds`` and one
    at the end of a fit long enough to need it; nothing for a stopped fit."""
    import io

    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    out = io.StringIO()
    t, cb = FakeTrainer(steps=10), Progress(headline="fid_digits", every_seconds=30, stream=out)
    cb.on_fit_start(t)
    for step in range(1, 11):
        t.step = step
        clock[0] += 7.0  # 7 s a step: a line at steps 5 (35 s) and 10 (70 s)
        cb.on_log(t, {"step": step, "d_loss": 0.5, "g_loss": 1.25, "fid_digits": 12.0})
        cb.on_step_end(t)
    cb.on_fit_end(t)
    lines = out.getvalue().splitlines()
    assert lines[0] == "gankit: step 5/10 (50 %) d=0.500 g=1.250 fid_digits=12, 35 s"
    assert lines[-1].startswith("gankit: step 10/10 (100 %)") and len(lines) == 2  # not twice
    ended = Progress(every_seconds=30, stream=(late := io.StringIO()))
    t.step = 0
    ended.on_fit_start(t)
    for step in range(1, 11):
        t.step = step
        clock[0] += 4.0  # a periodic line at step 8 (32 s), the end's own line at step 10
        ended.on_step_end(t)
    ended.on_fit_end(t)
    assert [line.split(" (")[0] for line in late.getvalue().splitlines()] == [
        "gankit: step 8/10",
        "gankit: step 10/10",
    ]
    stopped, cb = FakeTrainer(steps=10), Progress(stream=(quiet := io.StringIO()))
    cb.on_fit_start(stopped)
    stopped.step, stopped.stopped_reason = 3, "diverged"
    clock[0] += 5.0
    cb.on_fit_end(stopped)
    assert quiet.getvalue() == ""
