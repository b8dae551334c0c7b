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
from gankit.data.sources import data_for_model
from gankit.errors import GankitError
from gankit.game.game import Game
from gankit.game.losses import get_loss
from gankit.nets.build import batch_multiple, build_image_models, build_models
from gankit.nets.conditional import ClassPrior
from gankit.recipes.base import LoadedRun, TrainOptions, run_loop
from gankit.recipes.gan.step import GanTrainable
from gankit.recipes.training import train_run
from gankit.train.loop import Loop
from gankit.train.trainable import Source


def class_prior(data) -> ClassPrior | None:
    """The training split's class shares (or a clustered run's cluster shares: ``data.clusters``)
    as a conditional G's prior; None without labels. Data
    deferred for loading gives uniform shares of its classes: the checkpoint's prior (a
    buffer) replaces them, and no image is read."""
    if getattr(data, "deferred", False):
        n = data.num_classes
        return ClassPrior.from_labels(torch.arange(n), n) if n else None
    labels = data.source.dataset.labels  # the classes, or a clustered run's clusters
    return None if labels is None else ClassPrior.from_labels(labels, data.source.num_classes)


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
        name = runs.sampling_generator(tensors)
        runs.restore(tensors, {}, {name: generator, "D": discriminator}, {}, {}, source=source)

    step, _ = runs.restore_newest(path, apply)  # the newest intact one, with a warning
    return generator.eval(), discriminator.eval(), step


#: what a resumed GAN cannot change: the nets' shapes, the data, the random streams and the
#: optimizer's kind are in its checkpoints (a key, or a section ending in ".")
GAN_FROZEN_ON_RESUME = (
    "data.",
    "model.",
    "train.seed",
    "optim.name",
    "game.boost_rounds",
    "game.diversity",
)


def check_gan_config(config: Config) -> None:
    """The names a GAN reads from a registry (``game.loss``: `gankit.game.losses.LOSSES`),
    refused naming the key before anything is written."""
    try:
        get_loss(config.game.loss)
    except ValueError as exc:
        raise GankitError(f"game.loss: {exc}") from None


class GanRecipe:
    """A GAN: G against D (see the module docstring)."""

    name = "gan"
    frozen_on_resume = GAN_FROZEN_ON_RESUME

    def check(self, config: Config) -> None:
        check_gan_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train G against D in ``options.out`` (`gankit.recipes.training.train_run`)."""

        def prepare(data, device):
            generator, discriminator = build_checked_models(config, data)
            return lambda: GanTrainable(config, data.source, generator, discriminator, device)

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        data = data_for_model(config, runs.checkpoint_inputs(path))
        generator, discriminator, step = load_players(path, config, data)
        return LoadedRun(Path(path), config, data, generator, discriminator, step)
