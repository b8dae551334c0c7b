"""What happens around Algorithm 1, one small callback per job.

A callback sees the `~gankit.train.loop.Loop` at four points: ``on_fit_start``,
``on_log(loop, row)`` for each logged step (callbacks run in order and may add keys to the
row: evaluation before the log that writes it), ``on_step_end`` after every step, and
``on_fit_end`` (also when training raises). The standard order (`standard_callbacks`):

1. `StopOnDivergence`: a non-finite number in the row marks it ``event = "diverged"`` and stops
   training (no evaluation, no checkpoint of the broken weights; the loop itself also checks
   the losses at every step and the weights before every checkpoint, and logs a diverged row
   at the step where it happens, logged or not);
2. `Evaluation`: every ``log.eval_every`` steps and at the last, the evaluator's metrics join the
   row; the progress bar shows its headline metric;
3. `Snapshots`: at the same steps, the evaluator's snapshot files;
4. `MetricsLog`: the row, with the seconds since the fit started, as one line of
   ``RUN/metrics.jsonl``;
5. `LogHook`: a caller's function of each row (tests, and later the lab's live feed);
6. `Progress`: a tqdm bar on a terminal, a line every 30 s on stderr without one;
7. `Checkpoints`: every ``train.checkpoint_every`` steps and at the end.

DDP's rank-0-only writes will wrap these; nothing here reads the data or the nets' kinds.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from gankit import runs
from gankit.config import Config


class Callback:
    """No-op hooks; subclasses override what they need."""

    def on_fit_start(self, loop) -> None:
        pass

    def on_log(self, loop, row: dict) -> None:
        pass

    def on_step_end(self, loop) -> None:
        pass

    def on_fit_end(self, loop) -> None:
        pass


def all_finite(row: dict) -> bool:
    """Whether every number of a logged row is finite."""
    return all(
        math.isfinite(v)
        for v in row.values()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    )


class StopOnDivergence(Callback):
    """A non-finite loss, gradient or read-out stops training at once, marking the row."""

    def on_log(self, loop, row: dict) -> None:
        if not all_finite(row):
            loop.stop(f"non-finite loss or gradient at step {loop.step}")
            row["event"] = "diverged"


def evaluation_due(loop, row: dict, every: int) -> bool:
    """An evaluation step (every ``every`` steps and the last) whose row is not an event."""
    step = loop.step
    return (step % every == 0 or step == loop.total) and row.get("event") is None


class Evaluation(Callback):
    """``row.update(evaluate(loop))`` at evaluation steps, with the seconds it took as
    ``eval_seconds`` (evaluation's share of a run's time); ``latest`` keeps the last result."""

    def __init__(self, evaluate: Callable[[object], dict[str, float]], every: int):
        self.evaluate = evaluate
        self.every = every
        self.latest: dict[str, float] = {}

    def on_log(self, loop, row: dict) -> None:
        if evaluation_due(loop, row, self.every):
            started = time.perf_counter()
            self.latest = self.evaluate(loop)
            row.update(self.latest)
            row["eval_seconds"] = round(time.perf_counter() - started, 3)


class Snapshots(Callback):
    """``write(loop)`` at evaluation steps (samples, D's read-out: the evaluator's files),
    with the seconds it took as ``snapshot_seconds``."""

    def __init__(self, write: Callable[[object], None], every: int):
        self.write = write
        self.every = every

    def on_log(self, loop, row: dict) -> None:
        if evaluation_due(loop, row, self.every):
            started = time.perf_counter()
            self.write(loop)
            row["snapshot_seconds"] = round(time.perf_counter() - started, 3)


class MetricsLog(Callback):
    """Appends each row, with ``time`` (seconds since the fit started), to ``metrics.jsonl``:
    one whole line per row, written at once (`gankit.runs.LineLog`: a failed write leaves no
    partial line)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.file: runs.LineLog | None = None
        self.started = 0.0

    def on_fit_start(self, loop) -> None:
        self.file = runs.LineLog(self.path).open()
        self.started = time.perf_counter()

    def on_log(self, loop, row: dict) -> None:
        row["time"] = round(time.perf_counter() - self.started, 3)
        self.file.write(json.dumps(row))

    def on_fit_end(self, loop) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class LogHook(Callback):
    """Calls ``fn(row)`` with every finished row."""

    def __init__(self, fn: Callable[[dict], None]):
        self.fn = fn

    def on_log(self, loop, row: dict) -> None:
        self.fn(row)


#: a phase shorter than this needs no progress line
MIN_PHASE_SECONDS = 2.0


class Progress(Callback):
    """Progress of the fit: a tqdm bar on a terminal, showing the family's losses
    (`Trainable.progress`) and the evaluator's ``headline`` metric; without a terminal (a log
    file, ``nohup``, CI, ``| tee``) one line on stderr at least every ``every_seconds`` and at
    the end, so that a log shows the run moving."""

    def __init__(
        self,
        headline: str | None = None,
        enabled: bool = True,
        every_seconds: float = 30.0,
        stream=None,
    ):
        self.headline = headline
        self.enabled = enabled
        self.every_seconds = every_seconds
        self.stream = stream
        self.bar = None
        self.lines = False
        self.shown: dict[str, str] = {}
        self.last_line = 0.0
        self.last_step = -1
        self.started = 0.0

    def _stream(self):
        return self.stream if self.stream is not None else sys.stderr

    def on_fit_start(self, loop) -> None:
        if not self.enabled:
            return
        if sys.stdout.isatty():
            total = loop.total
            self.bar = tqdm(total=total, initial=loop.step, desc="train", dynamic_ncols=True)
        else:
            self.lines = True
            self.started = self.last_line = time.monotonic()

    def on_log(self, loop, row: dict) -> None:
        if self.bar is None and not self.lines:
            return
        for short, key in loop.trainable.progress:
            if isinstance(row.get(key), (int, float)):
                self.shown[short] = f"{row[key]:.3f}"
        if self.headline and isinstance(row.get(self.headline), (int, float)):
            self.shown[self.headline] = f"{row[self.headline]:.4g}"
        if self.bar is not None:
            self.bar.set_postfix(self.shown, refresh=False)

    def _line(self, loop) -> None:
        now = time.monotonic()
        shown = " ".join(f"{k}={v}" for k, v in self.shown.items())
        print(
            f"gankit: step {loop.step}/{loop.total} ({100 * loop.step / max(loop.total, 1):.0f} %)"
            f"{' ' + shown if shown else ''}, {now - self.started:.0f} s",
            file=self._stream(),
            flush=True,
        )
        self.last_line, self.last_step = now, loop.step

    def on_step_end(self, loop) -> None:
        if self.bar is not None:
            self.bar.update(1)
        elif self.lines and time.monotonic() - self.last_line >= self.every_seconds:
            self._line(loop)

    def on_fit_end(self, loop) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.lines:
            # the last line of a fit that ran its course and was long enough to need one (a
            # stop, a divergence or an interrupt says so in its own single line), unless the
            # periodic line just said it
            finished = loop.step >= loop.end and not loop.stopped_reason
            said = self.last_step == loop.step
            if finished and not said and time.monotonic() - self.started >= MIN_PHASE_SECONDS:
                self._line(loop)
            self.lines = False


class Checkpoints(Callback):
    """``loop.save()`` every ``every`` steps and at the end of the fit (not after a stop)."""

    def __init__(self, every: int):
        self.every = every

    def on_step_end(self, loop) -> None:
        if loop.stopped_reason:
            return
        if loop.step % self.every == 0 or loop.step == loop.end:
            loop.save()


def standard_callbacks(
    config: Config,
    run_dir: Path,
    evaluate: Callable[[object], dict[str, float]] | None = None,
    snapshot: Callable[[object], None] | None = None,
    headline: str | None = None,
    progress: bool = True,
    on_log: Callable[[dict], None] | None = None,
) -> list[Callback]:
    """The callbacks of a run directory, in the order of the module docstring."""
    every = config.log.eval_every
    callbacks: list[Callback] = [StopOnDivergence()]
    if evaluate is not None and every > 0:
        callbacks.append(Evaluation(evaluate, every))
        if snapshot is not None:
            callbacks.append(Snapshots(snapshot, every))
    callbacks.append(MetricsLog(Path(run_dir) / runs.METRICS))
    if on_log is not None:
        callbacks.append(LogHook(on_log))
    callbacks += [Progress(headline, progress), Checkpoints(config.train.checkpoint_every)]
    return callbacks
