"""The GAN family: build G and D for the run's data, train them with Algorithm 1 and its
callbacks, load them back, sample them.

A run trains in ``out``: the refusals (a remedy that does not fit the loss or the nets, a batch
size D cannot split) come first, before anything is written; then the run directory, the
`~gankit.train.loop.Loop` training a `~gankit.recipes.gan.step.GanTrainable` with the
standard callbacks and the evaluator of the data's kind,
and at the end the final evaluation, diagnosis, plots and report (`gankit.recipes.finish`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from gankit import config as config_mod
from gankit import runs
from gankit.config import Config
from gankit.data.sources import build_data
from gankit.devices import pick_device
from gankit.errors import GankitError
from gankit.eval import EvalState, evaluator_for
from gankit.game.game import Game
from gankit.nets.build import batch_multiple, build_image_models, build_models
from gankit.nets.conditional import ClassPrior
from gankit.nets.latent import generate, generated_classes
from gankit.recipes.base import LoadedRun, TrainOptions, run_loop
from gankit.recipes.finish import finish, finish_diverged
from gankit.recipes.gan.step import GanTrainable, Source
from gankit.recipes.rundir import claim, diverged_error, record_resume
from gankit.train.callbacks import standard_callbacks
from gankit.train.loop import Loop


def class_prior(data) -> ClassPrior | None:
    """The training split's class shares as a conditional G's prior; None without labels."""
    labels = data.train.labels
    return None if labels is None else ClassPrior.from_labels(labels, data.num_classes)


def build_models_for(config: Config, data) -> tuple[nn.Module, nn.Module]:
    """(G, D) of ``config`` for ``data``: DCGAN's for images (`gankit.data.sources.ImageData`),
    else vector nets for anything with ``dim`` and ``sample(n, generator)`` (which fits their
    standardisation); refuses a minibatch size that D cannot split into packs
    (``model.pack``) or moment groups (``model.d_input = "moments"``)."""
    multiple = batch_multiple(config.model)
    if config.train.batch_size % multiple != 0:
        key = "model.pack" if config.model.d_input == "samples" else "model.d_input"
        raise GankitError(
            f"train.batch_size = {config.train.batch_size} is not a multiple of {multiple}, "
            f"which {key} = {getattr(config.model, key.split('.')[1])!r} needs"
        )
    identity_head = config.game.diversity > 0
    if getattr(data, "kind", "toy") == "images":
        return build_image_models(
            config.model,
            data.shape,
            identity_head=identity_head,
            class_prior=class_prior(data),
        )
    return build_models(
        config.model,
        data.dim,
        data.sample,
        config.train.seed,
        identity_head=identity_head,
    )


def build_checked_models(config: Config, data) -> tuple[nn.Module, nn.Module]:
    """(G, D) for ``config``, after the refusals (an image setting on toy data, a remedy that
    does not fit the loss or the nets): called before anything is written."""
    toy = getattr(data, "kind", "toy") != "images"
    misplaced = config_mod.image_settings(config) if toy else []
    if misplaced:
        key, value = misplaced[0]
        raise GankitError(
            f"{key} = {value!r} is a setting of image runs; data.name = "
            f"{config.data.name!r} is toy data: leave {key} at its default"
        )
    generator, discriminator = build_models_for(config, data)
    Game(config.game, model=config.model, total_steps=config.train.steps).check_discriminator(
        discriminator
    )
    return generator, discriminator


def eval_state(
    generator: nn.Module, discriminator: nn.Module, step: int, config: Config, device
) -> EvalState:
    """What the evaluator reads of a GAN: G's samples in eval mode, D read through the loss."""

    def sample(n: int, rng: torch.Generator) -> torch.Tensor:
        return generate(generator, config.model, n, rng, device)

    def sample_classes(n: int) -> torch.Tensor | None:
        return generated_classes(generator, n)

    conditional = config.model.conditional
    return EvalState(
        sample, step, discriminator, config.game.loss, sample_classes if conditional else None
    )


def make_loop(
    config: Config,
    source: Source,
    data,
    generator: nn.Module,
    discriminator: nn.Module,
    out: Path,
    device: torch.device,
    progress: bool = True,
    on_log=None,
    evaluator=None,
) -> Loop:
    """The `Loop` of one run directory training G against D (`GanTrainable`): minibatches from
    ``source`` (which may reweight the data, as AdaGAN's rounds do), evaluation and snapshots
    against ``data`` by ``evaluator`` (default: the evaluator of its kind), the standard
    callbacks."""
    evaluator = evaluator if evaluator is not None else evaluator_for(config, data, device)

    def state(loop: Loop) -> EvalState:
        gan = loop.trainable
        return eval_state(gan.sampler, gan.D, loop.step, config, device)

    callbacks = standard_callbacks(
        config,
        out,
        evaluate=lambda loop: evaluator(state(loop)),
        snapshot=lambda loop: evaluator.snapshot(state(loop), out),
        headline=evaluator.headline,
        progress=progress,
        on_log=on_log,
    )
    return gan_loop(config, source, generator, discriminator, out, device, callbacks)


def gan_loop(
    config: Config,
    source: Source,
    generator: nn.Module,
    discriminator: nn.Module,
    out: Path | None,
    device: torch.device,
    callbacks=(),
) -> Loop:
    """The `Loop` of G against D on ``source`` with ``callbacks`` (none: the bare loop that
    tests and benchmarks step by hand)."""
    gan = GanTrainable(config, source, generator, discriminator, device)
    return run_loop(config, gan, out, device, callbacks)


def load_players(path: Path, config: Config, data) -> tuple[nn.Module, nn.Module, int]:
    """(G for sampling -- its EMA where the run kept one --, D, step) of the run in ``path``
    (or an AdaGAN round's sub-run), from its newest checkpoint, in eval mode on the CPU."""
    generator, discriminator = build_models_for(config, data)

    def apply(source: Path, tensors: dict, extra: dict) -> None:
        name = "G_ema" if any(k.startswith("G_ema.") for k in tensors) else "G"
        runs.restore(tensors, {}, {name: generator, "D": discriminator}, {}, {}, source=source)

    step, _ = runs.restore_newest(path, apply)  # the newest intact one, with a warning
    return generator.eval(), discriminator.eval(), step


class GanRecipe:
    """A GAN: G against D (see the module docstring)."""

    name = "gan"

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train ``config`` as ``options`` say (resumed: ``config`` is the run's stored one,
        with ``options.changes``); returns the run directory. Raises `Diverged` after writing
        the diagnosis of a run that diverged, `Interrupted` after checkpointing a run stopped
        by SIGINT/SIGTERM, `RunBusy` when another process writes ``out``."""
        out, resume = Path(options.out), options.resume
        runs.check_out(out, resume, options.force)
        data = build_data(config)
        device = pick_device(config.train.device)
        if config.train.threads:
            torch.set_num_threads(config.train.threads)
        torch.manual_seed(config.train.seed)  # initial weights
        generator, discriminator = build_checked_models(config, data)
        evaluator = evaluator_for(config, data, device)  # its refusals, before any write
        config_text = config_mod.dumps(config)
        with claim(options, config_text):
            loop = make_loop(
                config,
                data.source,
                data,
                generator,
                discriminator,
                out,
                device,
                options.progress,
                options.on_log,
                evaluator,
            )
            if resume:
                step = loop.resume()
                record_resume(out, config_text, step, options.changes)
            loop.fit(stop_after=options.stop_after)
            if loop.divergence is not None:
                finish_diverged(out)
                raise diverged_error(out, loop.divergence)
            if loop.step >= config.train.steps:
                finish(self.load(out, config))
        return out

    def load(self, path: Path, config: Config) -> LoadedRun:
        data = build_data(config)
        generator, discriminator, step = load_players(path, config, data)
        return LoadedRun(Path(path), config, data, generator, discriminator, step)
