"""The one training loop: steps, callbacks, checkpoints and resume, interrupts, divergence.

`Loop` trains any `~gankit.train.trainable.Trainable` (a GAN's players, a VAE, a classifier):
per step it sets each phase's learning rate (the base rate times the schedule's factor, a pure
function of the step: `gankit.train.schedules`), and for each phase, ``repeats`` times, zeroes
the gradients, lets the family's objective accumulate them (`Trainable.accumulate_gradients`
calls ``backward``), records the gradient norm on a logged step, steps the optimizer and calls
`Trainable.after_update`. Everything else (the metrics log, evaluation, snapshots, periodic
checkpoints, the progress bar, stopping on divergence) is a `~gankit.train.callbacks.Callback`.

Reliability (`docs/reliability.md`), the same for every family: a non-finite loss (checked at
every step on the CPU, at every logged step elsewhere) or weight (checked at logged steps and
before every checkpoint) stops the fit at once, recorded in `Loop.divergence`, and no
checkpoint of broken weights is ever written; the first SIGINT/SIGTERM during `Loop.fit` lets
the step in flight finish, checkpoints it and raises `~gankit.errors.Interrupted`
(`gankit.train.interrupts`); `Loop.resume` restores the newest intact checkpoint.

A loop without a run directory (``run_dir=None``: a feature classifier trained in memory) keeps
no checkpoints; everything else holds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gankit import runs
from gankit.errors import GankitError, GankitWarning, Interrupted
from gankit.train.interrupts import DeferredSignals
from gankit.train.optim import grad_norm
from gankit.train.trainable import Trainable


class NonFiniteWeights(Exception):
    """`Loop.save` found a non-finite weight: nothing is written."""


@dataclass
class Divergence:
    """Where and how a fit diverged: ``step``; ``reason`` (one line); ``values``: the
    non-finite numbers of that step's row; ``last_finite``: the last logged row whose numbers
    were all finite (None when none was logged)."""

    step: int
    reason: str
    values: dict[str, float]
    last_finite: dict | None


def nonfinite_values(row: dict) -> dict[str, float]:
    """The numbers of a logged row that are NaN or infinite."""
    return {k: v for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)}


def _finite(values) -> bool:
    """Whether every value (one-element tensors or floats; None where absent) is finite (under
    a microsecond a value on the CPU)."""
    return all(math.isfinite(float(v)) for v in values if v is not None)


class Loop:
    """Trains ``trainable`` for ``steps`` steps; a row every ``log_every`` steps and at the
    last; ``lr_factor(step)`` scales every phase's base learning rate; checkpoints go to
    ``run_dir`` (None: none); ``callbacks`` (in order) see every step and every logged row;
    ``check_every_step``: the loss's finiteness at every step (a device sync: the CPU's
    default), else at logged steps."""

    def __init__(
        self,
        trainable: Trainable,
        steps: int,
        run_dir: Path | None = None,
        callbacks: Sequence = (),
        log_every: int = 10,
        lr_factor: Callable[[int], float] | None = None,
        check_every_step: bool = True,
    ):
        self.trainable = trainable
        self.total = steps
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.callbacks = list(callbacks)
        self.log_every = log_every
        self.lr_factor = lr_factor or (lambda step: 1.0)
        self.check_every_step = check_every_step
        self.step = 0
        self.end = steps
        self.stopped_reason: str | None = None
        self.divergence: Divergence | None = None
        self.last_finite_row: dict | None = None
        self.last_saved: tuple[int, Path] | None = None

    # -------------------------------------------------------------------- state

    def _state(self):
        t = self.trainable
        return t.modules, t.optimizers, t.rngs

    def save(self) -> Path:
        """Checkpoint every module, optimizer and random stream and the step;
        `NonFiniteWeights` (nothing written) when a weight is not finite."""
        if self.run_dir is None:
            raise GankitError("this loop has no run directory to checkpoint into")
        modules, optimizers, rngs = self._state()
        bad = runs.nonfinite_tensor(modules)
        if bad is not None:
            raise NonFiniteWeights(f"non-finite weights in {bad}")
        inputs = getattr(self.trainable, "inputs", None)
        path = runs.save_checkpoint(
            self.run_dir, self.step, modules, optimizers, rngs, inputs=inputs
        )
        self.last_saved = (self.step, path)
        return path

    def resume(self) -> int:
        """Restore the newest intact checkpoint (a damaged newer one is set aside as
        ``step-N.safetensors.damaged`` with a warning) and drop the metrics logged after it. A
        run killed before its first checkpoint starts again from step 0, as it began."""
        if not runs.checkpoint_files(self.run_dir):
            warnings.warn(
                f"{self.run_dir}: no checkpoint yet; training starts again from step 0",
                GankitWarning,
                stacklevel=2,
            )
            runs.truncate_metrics(self.run_dir, 0)
            self.step = 0
            return 0

        def apply(path: Path, tensors: dict, extra: dict) -> None:
            runs.restore(tensors, extra, *self._state(), source=path)

        step, path = runs.restore_newest(self.run_dir, apply)
        if step > self.total:
            raise GankitError(
                f"train.steps = {self.total} is below step {step}, which {self.run_dir} has reached"
            )
        for newer in runs.checkpoint_files(self.run_dir):
            if newer != path and int(newer.stem.split("-")[1]) > step:
                newer.replace(newer.with_name(newer.name + ".damaged"))
        self.step = step
        self.last_saved = (step, path)
        runs.truncate_metrics(self.run_dir, step)
        return step

    def stop(self, reason: str) -> None:
        """End :meth:`fit` after this step (a callback's call: divergence, early stop)."""
        self.stopped_reason = reason

    # -------------------------------------------------------------------- one step

    def learning_rates(self, step: int) -> dict[str, float]:
        """``{lr_key: rate}`` of every phase at ``step`` (0-based)."""
        factor = self.lr_factor(step)
        return {phase.lr_key: phase.lr * factor for phase in self.trainable.phases}

    def train_step(self, log: bool) -> dict[str, float] | None:
        """One training step: every phase, in order, ``repeats`` times; returns the row's
        statistics when ``log`` or when a loss is not finite (a ``diverged`` row)."""
        t = self.trainable
        factor = self.lr_factor(self.step)
        phases = t.phases
        for phase in phases:
            for group in phase.optimizer.param_groups:
                group["lr"] = phase.lr * factor
        t.begin(self.step)
        stats: dict = {}
        norms: dict[str, float] = {}
        for phase in phases:
            for _ in range(phase.repeats):
                phase.optimizer.zero_grad(set_to_none=True)
                phase_stats = t.accumulate_gradients(phase.name, log)
                norms[phase.grad_key] = grad_norm(phase.module) if log else 0.0
                phase.optimizer.step()
                t.after_update(phase.name, self.step)
            stats.update(phase_stats)
        self.step += 1
        finite = True
        if log or self.check_every_step:
            finite = _finite(stats.get(key) for key in t.loss_keys)
        if not log and finite:
            return None
        row = {k: float(v) for k, v in stats.items()}
        if log:
            row.update(norms)
        row.update({phase.lr_key: phase.lr * factor for phase in phases})
        row.update(t.extra_row())
        bad_weight = runs.nonfinite_tensor(t.modules) if finite else None
        if not finite or bad_weight is not None:
            row["event"] = "diverged"
            bad = ", ".join(sorted(nonfinite_values(row))) or "the losses"
            row["reason"] = f"non-finite weights in {bad_weight}" if finite else f"non-finite {bad}"
        return row

    def is_logged(self, step: int) -> bool:
        """Whether ``step`` (1-based, as logged) writes a row: every ``log_every``, and the
        last."""
        return step % self.log_every == 0 or step == self.total

    # -------------------------------------------------------------------- the fit

    def fit(self, stop_after: int | None = None) -> int:
        """Train to ``steps`` (or until ``stop_after`` steps, for tests); returns the step.

        Each step: :meth:`train_step`; on a logged step every callback's ``on_log`` with the
        row ``{"step", ...statistics}`` (callbacks add to it in order); then every callback's
        ``on_step_end``; stop when a callback called :meth:`stop`."""
        self.end = self.total if stop_after is None else min(self.total, stop_after)
        self.trainable.train(True)
        with DeferredSignals() as signals:
            for cb in self.callbacks:
                cb.on_fit_start(self)
            try:
                while self.step < self.end:
                    row = self.train_step(self.is_logged(self.step + 1))
                    if row is not None:
                        self._dispatch({"step": self.step, **row})
                    try:
                        for cb in self.callbacks:
                            cb.on_step_end(self)
                    except NonFiniteWeights as exc:
                        self._dispatch({"step": self.step, "event": "diverged", "reason": str(exc)})
                    runs.pause("step")
                    if self.stopped_reason:
                        break
                    if signals.received is not None:
                        self._interrupt(signals.received)
                if signals.received is not None and self.divergence is None:
                    self._interrupt(signals.received)
            finally:
                for cb in self.callbacks:
                    cb.on_fit_end(self)
        return self.step

    def _dispatch(self, row: dict) -> None:
        """Every callback's ``on_log(row)``; then note a diverged row (and stop) or a finite
        one (the last finite values a divergence reports)."""
        for cb in self.callbacks:
            cb.on_log(self, row)
        if row.get("event") == "diverged":
            if self.divergence is None:
                values = nonfinite_values(row)
                reason = row.get("reason") or "non-finite " + ", ".join(sorted(values))
                self.divergence = Divergence(self.step, reason, values, self.last_finite_row)
            if not self.stopped_reason:
                self.stop(f"diverged at step {self.step}")
        elif "event" not in row:
            self.last_finite_row = row

    def _interrupt(self, signum: int) -> None:
        """Checkpoint the step reached (unless just done, or there is no run directory) and
        raise `Interrupted`."""
        note, path = "", None
        if self.last_saved is not None and self.last_saved[0] == self.step:
            path = self.last_saved[1]
        elif self.run_dir is not None:
            try:
                path = self.save()
            except NonFiniteWeights as exc:
                note = f"no checkpoint written ({exc})"
        raise Interrupted(signum, self.step, path, note=note)
