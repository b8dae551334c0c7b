"""What every model family's recipe provides, and a trained run loaded back.

A recipe (`gankit.recipes.gan.GanRecipe`, `gankit.recipes.adagan.AdaGanRecipe`; the baselines
later) knows how to build, train, load and sample its family; the registry
(`gankit.recipes.recipe_for`) picks it from the config. A loaded run (`LoadedRun`) samples its
model, reads D out on points and evaluates itself with the evaluator of its data's kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor, nn

from gankit.config import Config
from gankit.data.checks import from_net
from gankit.devices import fits_on
from gankit.errors import GankitError
from gankit.eval import evaluator_for
from gankit.eval.base import DrawReport
from gankit.game.losses import d_readout, get_loss
from gankit.nets.latent import eval_mode, generate, generated_classes
from gankit.train.loop import Loop
from gankit.train.schedules import schedule_of

#: the seeds of a final evaluation's further draws (``log.final_draws``): seed + i * this
DRAW_SEED_STRIDE = 7919

#: the GAN's settings (G against D, its nets and optimizers), meaningless for a family without
#: a discriminator; such a family refuses them where set, naming the key (a prefix ends with ".")
GAN_SETTINGS = (
    "game.",
    "model.arch",
    "model.noise",
    "model.noise_dim",
    "model.g_",
    "model.d_",
    "model.activation",
    "model.standardize",
    "model.ema",
    "model.generators",
    "model.spectral_norm",
    "model.minibatch_",
    "model.pack",
    "model.conditional",
    "optim.lr_d",
    "optim.lr_g",
    "train.precision",
    "train.channels_last",
)


@dataclass(frozen=True)
class TrainOptions:
    """How to run a training, apart from the config: into ``out``; ``resume`` it from its
    newest checkpoint (with the config stored there); ``force``: replace what ``out`` holds;
    ``progress``: a bar on a terminal; ``stop_after``: stop at that step, as an interruption
    would (tests); ``on_log``: called with each logged row; ``changes``: what a resumed run
    changes in its stored config (``"optim.lr_d: 1e9 -> 0.0002"``, from ``--set``), recorded in
    ``config.toml`` and as a ``resume`` row of ``metrics.jsonl``."""

    out: Path
    resume: bool = False
    force: bool = False
    progress: bool = True
    stop_after: int | None = None
    on_log: Callable[[dict], None] | None = None
    changes: tuple[str, ...] = ()


class Recipe(Protocol):
    """How to train and load one model family (see the module docstring).

    ``frozen_on_resume``: the keys (or sections, ending in ".") that a resumed run cannot
    change, because its checkpoints hold what they shape; ``check(config)``: the family's own
    refusals (keys that mean nothing for it), before anything is written."""

    name: str
    frozen_on_resume: tuple[str, ...]

    def check(self, config: Config) -> None: ...

    def train(self, config: Config, options: TrainOptions) -> Path: ...

    def load(self, path: Path, config: Config) -> LoadedRun: ...


def check_sample_count(n: int) -> None:
    """Refuse, naming ``-n``, a request for fewer than one sample."""
    if n < 1:
        raise GankitError(f"-n: number of samples must be >= 1, got {n}")


@dataclass
class LoadedRun:
    """A trained run loaded back from its directory (newest checkpoint), on the CPU.

    ``data``: the run's data (`gankit.data.sources.ToyData`, ...); ``generator``: what samples
    (G's EMA where the run kept one, else G; a VAE); ``discriminator``: D, None for a family
    without one; ``step``: the checkpoint's step."""

    path: Path
    config: Config
    data: object
    generator: nn.Module
    discriminator: nn.Module | None
    step: int

    @property
    def readout_loss(self) -> str:
        """The loss whose read-out applies to ``discriminator``'s raw scores."""
        return self.config.game.loss

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        """``(n, ...)`` float32 samples of the run's generator, reproducible from ``seed``;
        ``label``: every sample of that class (a class-conditional generator only)."""
        check_sample_count(n)
        classes = None if label is None else self._classes_of(label, n)
        rng = torch.Generator().manual_seed(seed)
        return generate(self.generator, self.config.model, n, rng, classes=classes)

    def samples_per_second(self, batch: int = 1000, repeats: int = 3) -> float:
        """How fast :meth:`sample` draws: ``batch`` samples per call, the best of ``repeats``
        timed calls after one untimed warm-up call of up to 10 (issue 25's sampling speed:
        a GAN's one pass of G against a PixelCNN's one pass per pixel)."""
        self.sample(min(10, batch), seed=0)
        best = float("inf")
        for i in range(repeats):
            start = time.perf_counter()
            self.sample(batch, seed=i + 1)
            best = min(best, time.perf_counter() - start)
        return batch / best

    def _classes_of(self, label: int, n: int) -> Tensor:
        if self.config.data.clusters:
            raise GankitError(
                f"--class {label}: {self.path}'s generator reads k-means clusters "
                f"(data.clusters = {self.config.data.clusters}), not classes"
            )
        count = getattr(self.generator, "classes", 0)
        if not count:
            raise GankitError(
                f"--class {label}: {self.path}'s generator is unconditional "
                "(model.conditional = false): it cannot be asked for a class"
            )
        if not 0 <= label < count:
            raise GankitError(f"--class {label}: {self.path}'s classes are 0..{count - 1}")
        return torch.full((n,), label, dtype=torch.int64)

    def export(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        """:meth:`sample` in the convention of files at gankit's edges: images as float32 in
        [0, 1] ``(n, C, H, W)``; toy samples ``(n, dim)`` as they are."""
        samples = self.sample(n, seed=seed, label=label)
        return from_net(samples) if self.data.kind == "images" else samples

    @torch.no_grad()
    def readout(self, x: Tensor) -> Tensor | None:
        """``(n,)`` D's read-out on points ``x`` (probabilities for the sigmoid losses); None for
        a D that judges sets, not points (minibatch layers, moments)."""
        d = self.discriminator
        if d is None or not getattr(d, "pointwise", True):
            return None
        with eval_mode(d):
            scores = d(x).float().reshape(-1)
        return d_readout(get_loss(self.readout_loss), scores)

    def evaluate(
        self,
        n: int | None = None,
        seed: int = 0,
        write: bool = False,
        on_draw: DrawReport | None = None,
    ) -> dict:
        """The metrics of ``n`` samples (default ``log.final_samples``) against the data;
        ``write``: also the evaluator's final files in the run directory (image runs:
        ``nearest.npz``). Image runs with ``log.final_draws`` > 1 add FID's mean and std over
        that many independent draws of ``n`` (the first being these samples), calling
        ``on_draw(i, draws)`` before each further one (`gankit.eval.base.draw_lines`)."""
        n = n or self.config.log.final_samples
        evaluator = evaluator_for(self.config, self.data)
        samples = self.sample(n, seed=seed)

        def redraw(i: int) -> Tensor:
            if on_draw is not None:
                on_draw(i, self.config.log.final_draws)
            return self.sample(n, seed=seed + i * DRAW_SEED_STRIDE)

        classes = generated_classes(self.generator, n)
        metrics = evaluator.final(samples, self.path if write else None, redraw, classes)
        if write:
            self.write_family_files()
        return {"step": self.step, "samples": n, **metrics, **self.family_metrics()}

    def write_family_files(self) -> None:
        """The family's own files of a final evaluation (InfoGAN's latent traversals,
        pix2pix's translations), for its report section: none here."""

    def family_metrics(self) -> dict[str, float]:
        """What the family measures beyond its samples, in the final metrics (InfoGAN's code
        accuracy, a semi-supervised D's held-out accuracy; `EvalState.family_metrics` during
        training): none here; a family's run overrides it."""
        return {}


def run_loop(config: Config, trainable, out: Path | None, device, callbacks=()) -> Loop:
    """The `Loop` of ``trainable`` as ``config``'s ``train``, ``log`` and ``optim`` sections
    say: its steps, logging cadence and learning-rate schedule."""
    return Loop(
        trainable,
        config.train.steps,
        out,
        callbacks,
        log_every=config.log.every,
        lr_factor=schedule_of(config.optim, config.train.steps),
        check_every_step=torch.device(device).type == "cpu",
    )


def place_data(data, device: torch.device) -> None:
    """Move an image dataset's training source to ``device`` once where it fits
    (`gankit.devices.fits_on`), so that minibatches are indexed there; toy sources draw on the
    CPU, and a dataset too large stays there (each minibatch is copied over)."""
    source = getattr(data, "source", None)
    move = getattr(source, "to", None)
    if move is not None and device.type != "cpu" and fits_on(device, source.nbytes):
        move(device)


def check_loss_without_critic(config: Config, d_name: str, losses: str) -> None:
    """``game.loss`` taken from its registry and refused, naming the key, where it needs a
    Lipschitz critic that ``d_name`` (a D without clipping or a gradient penalty) cannot be;
    ``losses``: the ones to use instead, for the message."""
    try:
        loss = get_loss(config.game.loss)
    except ValueError as exc:
        raise GankitError(f"game.loss: {exc}") from None
    if loss.lipschitz:
        raise GankitError(
            f"game.loss = {loss.name!r} needs a Lipschitz critic (clipping or a gradient "
            f"penalty), which {d_name} does not take; use {losses}"
        )
