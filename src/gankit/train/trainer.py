"""Algorithm 1 of Goodfellow et al. (2014): k discriminator steps, then one generator step.

The `Trainer` only schedules: minibatches from its source, the k D-steps per G-step, the
learning rates (pure functions of the step, `gankit.train.schedules`), G's EMA, and its own
state (checkpoints and resume). The objective belongs to the `~gankit.game.game.Game`, which
the trainer tells the step (for the instance-noise schedule) and hands the extra minibatches its
remedies need: k fresh ones for unrolled GANs, a real one for feature matching. Everything else
(the metrics log, evaluation, snapshots, periodic checkpoints, the progress bar, stopping on
divergence) is a `~gankit.train.callbacks.Callback`.

Reliability (`docs/reliability.md`): a non-finite loss (checked at every step on the CPU, at
every logged step elsewhere) or weight (checked at logged steps and before every checkpoint)
stops the fit at once, recorded in `Trainer.divergence`, and no checkpoint of broken weights is
ever written; the first SIGINT/SIGTERM during `Trainer.fit` lets the step in flight finish,
checkpoints it and raises `~gankit.errors.Interrupted` (`gankit.train.interrupts`).

Random streams: one seed, three `torch.Generator`s, ``data`` (minibatches), ``noise`` (G's
latents) and ``game`` (penalties' interpolates, instance noise), all saved in checkpoints. With
every remedy off, each iteration reads them as Algorithm 1 always did: per D-step a real
minibatch then a latent batch; for the G-step a latent batch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from gankit import runs
from gankit.config import Config
from gankit.data.batch import Batch, Latent
from gankit.errors import GankitError, GankitWarning, Interrupted
from gankit.game.game import Game
from gankit.nets.ema import EmaTracker, debiased_decay
from gankit.nets.latent import class_shares, sample_latent
from gankit.train.interrupts import DeferredSignals
from gankit.train.optim import grad_norm, make_optimizer
from gankit.train.schedules import lr_factor

RNG_STREAMS = ("data", "noise", "game")


class NonFiniteWeights(Exception):
    """`Trainer.save` found a non-finite weight: nothing is written."""


@dataclass
class Divergence:
    """Where and how a fit diverged: ``step``; ``reason`` (one line); ``values``: the
    non-finite numbers of that step's row; ``last_finite``: the last logged row whose numbers
    were all finite (None when none was logged)."""

    step: int
    reason: str
    values: dict[str, float]
    last_finite: dict | None


def _nonfinite_values(row: dict) -> dict[str, float]:
    """The numbers of a logged row that are NaN or infinite."""
    return {k: v for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)}


class Source(Protocol):
    """What the trainer draws real minibatches from (`gankit.data.sources`)."""

    def batch(self, n: int, generator: torch.Generator) -> Batch: ...


class Trainer:
    """Trains ``generator`` against ``discriminator`` on minibatches of ``source``; checkpoints
    go to ``run_dir``; ``callbacks`` (in order) see every step and every logged row."""

    def __init__(
        self,
        config: Config,
        source: Source,
        generator: nn.Module,
        discriminator: nn.Module,
        run_dir: Path,
        device: torch.device,
        callbacks: Sequence = (),
    ):
        self.cfg = config
        self.source = source
        self.device = device
        self.memory_format = (
            torch.channels_last if config.train.channels_last else torch.contiguous_format
        )
        self.G = generator.to(device, memory_format=self.memory_format)
        self.D = discriminator.to(device, memory_format=self.memory_format)
        self._shares = class_shares(self.G)  # a conditional G's class prior, else None
        self.ema = EmaTracker(self.G) if config.model.ema > 0 else None
        self.G_ema = self.ema.module if self.ema is not None else None
        self.run_dir = Path(run_dir)
        seed = config.train.seed
        self.rngs = {
            name: torch.Generator(device=device).manual_seed(seed * 7919 + i)
            for i, name in enumerate(RNG_STREAMS)
        }
        self.game = Game(
            config.game,
            generator=self.rngs["game"],
            model=config.model,
            total_steps=config.train.steps,
        )
        self.game.check_discriminator(self.D)
        self.opt_d = make_optimizer(self.D.parameters(), config.optim.lr_d, config.optim)
        self.opt_g = make_optimizer(self.G.parameters(), config.optim.lr_g, config.optim)
        self.callbacks = list(callbacks)
        self.step = 0
        self.end = config.train.steps
        self.stopped_reason: str | None = None
        self.divergence: Divergence | None = None
        self.last_finite_row: dict | None = None
        self.last_saved: tuple[int, Path] | None = None
        # a per-step finiteness check costs a device sync: every step on the CPU only
        self.check_every_step = self.device.type == "cpu"

    # -------------------------------------------------------------------- state

    def _state(self):
        modules = {"G": self.G, "D": self.D}
        if self.G_ema is not None:
            modules["G_ema"] = self.G_ema
        return modules, {"opt_d": self.opt_d, "opt_g": self.opt_g}, self.rngs

    def save(self) -> Path:
        """Checkpoint G, D, G's EMA, both optimizers, every random stream and the step;
        `NonFiniteWeights` (nothing written) when a weight is not finite."""
        modules, optimizers, rngs = self._state()
        bad = runs.nonfinite_tensor(modules)
        if bad is not None:
            raise NonFiniteWeights(f"non-finite weights in {bad}")
        path = runs.save_checkpoint(self.run_dir, self.step, modules, optimizers, rngs)
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
        if step > self.cfg.train.steps:
            raise GankitError(
                f"train.steps = {self.cfg.train.steps} is below step {step}, which "
                f"{self.run_dir} has reached"
            )
        for newer in runs.checkpoint_files(self.run_dir):
            if newer != path and int(newer.stem.split("-")[1]) > step:
                newer.replace(newer.with_name(newer.name + ".damaged"))
        self.step = step
        self.last_saved = (step, path)
        runs.truncate_metrics(self.run_dir, step)
        return step

    @property
    def sampler(self) -> nn.Module:
        """The generator used for evaluation and sampling: the EMA copy where configured."""
        return self.G_ema if self.G_ema is not None else self.G

    def stop(self, reason: str) -> None:
        """End :meth:`fit` after this step (a callback's call: divergence, early stop)."""
        self.stopped_reason = reason

    # -------------------------------------------------------------------- Algorithm 1

    def _latent(self, n: int) -> Latent:
        return sample_latent(n, self.cfg.model, self.rngs["noise"], self.device, self._shares)

    def _real(self, m: int) -> Batch:
        real = self.source.batch(m, self.rngs["data"]).to(self.device, non_blocking=True)
        if self.memory_format is torch.channels_last and real.x.ndim == 4:
            real = real.with_x(real.x.contiguous(memory_format=torch.channels_last))
        return real

    def autocast(self) -> AbstractContextManager:
        """bfloat16 autocast of the forward passes where ``train.precision = "bf16"``."""
        if self.cfg.train.precision != "bf16":
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def learning_rates(self, step: int) -> tuple[float, float]:
        """(lr_d, lr_g) at ``step`` (0-based): the base rates times the schedule's factor."""
        o = self.cfg.optim
        f = lr_factor(step, self.cfg.train.steps, o.schedule, o.warmup)
        return o.lr_d * f, o.lr_g * f

    def _set_lr(self, step: int) -> tuple[float, float]:
        lr_d, lr_g = self.learning_rates(step)
        for group in self.opt_d.param_groups:
            group["lr"] = lr_d
        for group in self.opt_g.param_groups:
            group["lr"] = lr_g
        return lr_d, lr_g

    def _generator_step_loss(self, m: int):
        """G's loss: against D, or against D unrolled ``game.unroll`` steps on fresh minibatches
        (drawn first, real then latents per step); a real minibatch only for feature matching."""
        d_for_g = self.D
        k = self.cfg.game.unroll
        if k > 0:
            batches = []
            for _ in range(k):
                real = self._real(m)
                batches.append((real, self.game.fake(self.G, self._latent(m))))
            d_for_g = self.game.unrolled(self.D, batches, self.opt_d)
        real = self._real(m) if self.game.needs_real_for_g else None
        fake = self.game.fake(self.G, self._latent(m))
        return self.game.generator_loss(d_for_g, fake, real=real)

    def discriminator_step(self, m: int, log: bool) -> tuple[dict, float]:
        """One D update on a fresh real minibatch and a generated one: (statistics, grad norm)."""
        real = self._real(m)
        with self.autocast():
            with torch.no_grad():
                fake = self.game.fake(self.G, self._latent(m))
            d_loss, d_stats = self.game.discriminator_loss(self.D, real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        gnorm = grad_norm(self.D) if log else 0.0
        self.opt_d.step()
        self.game.after_discriminator_step(self.D)
        return d_stats, gnorm

    def generator_step(self, m: int, log: bool) -> tuple[dict, float]:
        """One G update (then G's EMA): (statistics, grad norm)."""
        with self.autocast():
            g_loss, g_stats = self._generator_step_loss(m)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        gnorm = grad_norm(self.G) if log else 0.0
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update(debiased_decay(self.cfg.model.ema, self.step + 1))
        return g_stats, gnorm

    def train_step(self, log: bool) -> dict[str, float] | None:
        """One iteration of Algorithm 1 (k = ``game.d_steps`` D updates, then one G update);
        returns the logged statistics when ``log``."""
        m = self.cfg.train.batch_size
        lr_d, lr_g = self._set_lr(self.step)
        self.game.set_step(self.step)
        d_stats, gnorm_d = {}, 0.0
        for _ in range(self.cfg.game.d_steps):
            d_stats, gnorm_d = self.discriminator_step(m, log)
        g_stats, gnorm_g = self.generator_step(m, log)
        self.step += 1
        finite = True
        if log or self.check_every_step:
            finite = _losses_finite(d_stats.get("d_loss"), g_stats.get("g_loss"))
        if not log and finite:
            return None
        row = {k: float(v) for k, v in {**d_stats, **g_stats}.items()}
        if log:
            row.update(grad_norm_d=gnorm_d, grad_norm_g=gnorm_g)
        row.update(lr_d=lr_d, lr_g=lr_g)
        for net in (self.G, self.D):  # nets small enough to log their parameters (Dirac-GAN)
            readout = getattr(net, "readout", None)
            if readout is not None:
                row.update(readout())
        bad_weight = runs.nonfinite_tensor(self._state()[0]) if finite else None
        if not finite or bad_weight is not None:
            row["event"] = "diverged"
            bad = ", ".join(sorted(_nonfinite_values(row))) or "the losses"
            row["reason"] = f"non-finite weights in {bad_weight}" if finite else f"non-finite {bad}"
        return row

    def is_logged(self, step: int) -> bool:
        """Whether ``step`` (1-based, as logged) writes a row: every ``log.every``, and the last."""
        return step % self.cfg.log.every == 0 or step == self.cfg.train.steps

    def fit(self, stop_after: int | None = None) -> int:
        """Train to ``train.steps`` (or until ``stop_after`` steps, for tests); returns the step.

        Each step: :meth:`train_step`; on a logged step every callback's ``on_log`` with the
        row ``{"step", ...statistics}`` (callbacks add to it in order); then every callback's
        ``on_step_end``; stop when a callback called :meth:`stop`."""
        total = self.cfg.train.steps
        self.end = total if stop_after is None else min(total, stop_after)
        self.G.train()
        self.D.train()
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
                values = _nonfinite_values(row)
                reason = row.get("reason") or "non-finite " + ", ".join(sorted(values))
                self.divergence = Divergence(self.step, reason, values, self.last_finite_row)
            if not self.stopped_reason:
                self.stop(f"diverged at step {self.step}")
        elif "event" not in row:
            self.last_finite_row = row

    def _interrupt(self, signum: int) -> None:
        """Checkpoint the step reached (unless just done) and raise `Interrupted`."""
        note, path = "", None
        if self.last_saved is not None and self.last_saved[0] == self.step:
            path = self.last_saved[1]
        else:
            try:
                path = self.save()
            except NonFiniteWeights as exc:
                note = f"no checkpoint written ({exc})"
        raise Interrupted(signum, self.step, path, note=note)


def _losses_finite(d_loss, g_loss) -> bool:
    """Whether both players' losses (one-element tensors, or None where absent) are finite
    (under a microsecond on the CPU)."""
    return all(math.isfinite(float(v)) for v in (d_loss, g_loss) if v is not None)
