"""Algorithm 1 of Goodfellow et al. (2014): k discriminator steps, then one generator step.

The `Trainer` only schedules: minibatches, the k D-steps per G-step, learning-rate schedules
(pure functions of the step, so that a resume is exact), logging to ``metrics.jsonl``,
evaluations, snapshots and checkpoints. The objective belongs to the `Game`, which the trainer
tells the step (for the instance-noise schedule) and hands the extra minibatches its remedies
need: k fresh ones for unrolled GANs, a real one for feature matching.
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit import runs
from gankit.config import Config, OptimConfig
from gankit.game.game import Game
from gankit.nets.build import sample_noise

Evaluator = Callable[[nn.Module, int], dict[str, float]]
SnapshotFn = Callable[[nn.Module, nn.Module, int], dict[str, Any]]


def lr_factor(step: int, total: int, schedule: str, warmup: int) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total``."""
    factor = 1.0
    if warmup > 0 and step < warmup:
        factor = (step + 1) / warmup
    progress = min(max(step - warmup, 0) / max(total - warmup, 1), 1.0)
    if schedule == "linear":
        factor *= 1.0 - progress
    elif schedule == "cosine":
        factor *= 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


def make_optimizer(params, lr: float, cfg: OptimConfig) -> torch.optim.Optimizer:
    """SGD with momentum, Adam or RMSprop, as in the config."""
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=cfg.beta2)
    raise ValueError(f"unknown optimizer '{cfg.name}'")


def grad_norm(module: nn.Module) -> float:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))


class Trainer:
    """Trains ``generator`` against ``discriminator`` on ``sample_data`` into ``run_dir``."""

    def __init__(
        self,
        config: Config,
        sample_data: Callable[[int, torch.Generator], torch.Tensor],
        generator: nn.Module,
        discriminator: nn.Module,
        run_dir: Path,
        device: torch.device,
        evaluator: Evaluator | None = None,
        snapshot: SnapshotFn | None = None,
        progress: bool = True,
        on_log: Callable[[dict], None] | None = None,
    ):
        self.cfg = config
        self.sample_data = sample_data
        self.device = device
        self.G = generator.to(device)
        self.D = discriminator.to(device)
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False) if config.model.ema > 0 else None
        self.run_dir = Path(run_dir)
        seed = config.train.seed
        # One seed, separate streams: data, noise, and the game's own randomness (penalties).
        self.rngs = {
            name: torch.Generator(device=device).manual_seed(seed * 7919 + i)
            for i, name in enumerate(("data", "noise", "game"))
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
        self.evaluator = evaluator
        self.snapshot = snapshot
        self.progress = progress
        self.on_log = on_log
        self.step = 0
        self.stopped_reason: str | None = None

    # -------------------------------------------------------------------- state

    def _state(self):
        modules = {"G": self.G, "D": self.D}
        if self.G_ema is not None:
            modules["G_ema"] = self.G_ema
        return modules, {"opt_d": self.opt_d, "opt_g": self.opt_g}, self.rngs

    def save(self) -> Path:
        modules, optimizers, rngs = self._state()
        return runs.save_checkpoint(self.run_dir, self.step, modules, optimizers, rngs)

    def resume(self) -> int:
        """Restore the newest checkpoint and drop the metrics logged after it."""
        step, tensors, extra = runs.load_checkpoint(runs.latest_checkpoint(self.run_dir))
        runs.restore(tensors, extra, *self._state())
        self.step = step
        runs.truncate_metrics(self.run_dir, step)
        return step

    @property
    def sampler(self) -> nn.Module:
        """The generator used for evaluation and sampling: the EMA copy where configured."""
        return self.G_ema if self.G_ema is not None else self.G

    # -------------------------------------------------------------------- Algorithm 1

    def _noise(self, n: int) -> torch.Tensor:
        m = self.cfg.model
        return sample_noise(n, m.noise_dim, m.noise, self.rngs["noise"], self.device)

    def _set_lr(self, step: int) -> tuple[float, float]:
        o = self.cfg.optim
        f = lr_factor(step, self.cfg.train.steps, o.schedule, o.warmup)
        for group in self.opt_d.param_groups:
            group["lr"] = o.lr_d * f
        for group in self.opt_g.param_groups:
            group["lr"] = o.lr_g * f
        return o.lr_d * f, o.lr_g * f

    def _real(self, m: int) -> torch.Tensor:
        return self.sample_data(m, self.rngs["data"]).to(self.device, non_blocking=True)

    def _generator_step_loss(self, m: int):
        """G's loss: against D, or against D unrolled ``game.unroll`` steps on fresh minibatches
        (drawn first, real then noise per step); a real minibatch only for feature matching.
        With every remedy off the streams are read exactly as Algorithm 1 always did."""
        d_for_g = self.D
        k = self.cfg.game.unroll
        if k > 0:
            batches = []
            for _ in range(k):
                real = self._real(m)
                batches.append((real, self.G(self._noise(m))))
            d_for_g = self.game.unrolled(self.D, batches, self.opt_d)
        real = self._real(m) if self.game.needs_real_for_g else None
        return self.game.generator_loss(d_for_g, self.G(self._noise(m)), real=real)

    def train_step(self, log: bool) -> dict[str, float] | None:
        """One iteration of Algorithm 1; returns the logged statistics when ``log``."""
        m = self.cfg.train.batch_size
        lr_d, lr_g = self._set_lr(self.step)
        self.game.set_step(self.step)
        d_stats = None
        for _ in range(self.cfg.game.d_steps):
            real = self._real(m)
            with torch.no_grad():
                fake = self.G(self._noise(m))
            d_loss, d_stats = self.game.discriminator_loss(self.D, real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            gnorm_d = grad_norm(self.D) if log else 0.0
            self.opt_d.step()
            self.game.after_discriminator_step(self.D)
        g_loss, g_stats = self._generator_step_loss(m)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        gnorm_g = grad_norm(self.G) if log else 0.0
        self.opt_g.step()
        if self.G_ema is not None:
            with torch.no_grad():
                ema, live = list(self.G_ema.parameters()), list(self.G.parameters())
                torch._foreach_lerp_(ema, live, 1.0 - self.cfg.model.ema)
        self.step += 1
        if not log:
            return None
        row = {k: float(v) for k, v in {**d_stats, **g_stats}.items()}
        row.update(grad_norm_d=gnorm_d, grad_norm_g=gnorm_g, lr_d=lr_d, lr_g=lr_g)
        for net in (self.G, self.D):  # nets small enough to log their parameters (Dirac-GAN)
            readout = getattr(net, "readout", None)
            if readout is not None:
                row.update(readout())
        return row

    def fit(self, stop_after: int | None = None) -> int:
        """Train to ``train.steps`` (or until ``stop_after`` steps, for tests); returns the step."""
        cfg = self.cfg
        total = cfg.train.steps
        end = total if stop_after is None else min(total, stop_after)
        bar = None
        if self.progress and sys.stdout.isatty():
            from tqdm import tqdm

            bar = tqdm(total=total, initial=self.step, desc="train", dynamic_ncols=True)
        metrics_path = self.run_dir / runs.METRICS
        started = time.perf_counter()
        latest_eval: dict[str, float] = {}
        self.G.train()
        self.D.train()
        with open(metrics_path, "a") as metrics_file:
            while self.step < end:
                step_index = self.step + 1  # steps are counted 1..total in the logs
                log = step_index % cfg.log.every == 0 or step_index == total
                row = self.train_step(log)
                if row is not None:
                    row = {"step": self.step, **row}
                    if not all(math.isfinite(v) for v in row.values()):
                        self.stopped_reason = f"non-finite loss or gradient at step {self.step}"
                        row["event"] = "diverged"
                    evaluate = self.step % cfg.log.eval_every == 0 or self.step == total
                    if evaluate and self.evaluator is not None and row.get("event") is None:
                        latest_eval = self.evaluator(self.sampler, self.step)
                        row.update(latest_eval)
                        if self.snapshot is not None:
                            self.snapshot(self.sampler, self.D, self.step)
                    row["time"] = round(time.perf_counter() - started, 3)
                    metrics_file.write(json.dumps(row) + "\n")
                    metrics_file.flush()
                    if self.on_log is not None:
                        self.on_log(row)
                    if bar is not None:
                        post = {"d": f"{row['d_loss']:.3f}", "g": f"{row['g_loss']:.3f}"}
                        if "jsd" in latest_eval:
                            post["jsd"] = f"{latest_eval['jsd']:.4f}"
                        bar.set_postfix(post, refresh=False)
                if bar is not None:
                    bar.update(1)
                if self.stopped_reason:
                    break
                if self.step % cfg.train.checkpoint_every == 0 or self.step == end:
                    self.save()
        if bar is not None:
            bar.close()
        return self.step
