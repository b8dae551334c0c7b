"""The autoencoder decoder as a generator: "cut off the decoder, feed it Gaussian codes".

A deterministic autoencoder on the VAE's nets (`gankit.nets.autoencoder`) is trained by
reconstruction on the one loop (`gankit.recipes.autoencoder.step`); a Gaussian fitted to the
codes of the training set (kept in the checkpoint) makes its decoder a sampler. The GAN's keys
mean nothing here and are refused, naming the key; ``optim.name``/``beta1``/``beta2`` choose the
optimizer, at ``autoencoder.lr``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit import runs
from gankit.config import Config
from gankit.data.sources import data_for_model
from gankit.nets.autoencoder import Autoencoder, build_autoencoder
from gankit.recipes.autoencoder.config import AutoencoderConfig
from gankit.recipes.autoencoder.step import AutoencoderTrainable
from gankit.recipes.base import LoadedRun, TrainOptions
from gankit.recipes.fit_set import (
    GAN_SETTINGS,
    SamplerRun,
    is_images,
    refuse_settings,
    training_points,
)
from gankit.recipes.training import train_run

OWN_KEYS = "autoencoder.*: latent_dim, width, depth, activation, lr, toy_points"
#: points drawn (seeded by ``train.seed``) to fit a toy autoencoder's standard units
STANDARDIZE_SAMPLES = 50_000


def build_autoencoder_for(config: Config, data) -> Autoencoder:
    """The autoencoder of ``config`` for ``data``: convolutional for images, MLPs with standard
    units fitted to the toy's points (seeded by ``train.seed``) otherwise."""
    s: AutoencoderConfig = config.section("autoencoder")
    images = is_images(data)
    model = build_autoencoder(
        "conv" if images else "mlp",
        tuple(data.shape) if images else data.dim,
        latent_dim=s.latent_dim,
        width=s.width,
        depth=s.depth,
        activation=s.activation,
    )
    if not images:
        rng = torch.Generator().manual_seed(config.train.seed + 104729)
        model.standardize.fit(data.sample(STANDARDIZE_SAMPLES, rng).float())
    return model


class AutoencoderRecipe:
    """The autoencoder decoder as a generator (see the module docstring)."""

    name = "autoencoder"
    frozen_on_resume = (
        "data.",
        "train.seed",
        "optim.name",
        "autoencoder.latent_dim",
        "autoencoder.width",
        "autoencoder.depth",
        "autoencoder.activation",
        "autoencoder.toy_points",
    )

    def check(self, config: Config) -> None:
        refuse_settings(config, GAN_SETTINGS, "autoencoder", OWN_KEYS)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train in ``options.out`` (`gankit.recipes.training.train_run`)."""
        s: AutoencoderConfig = config.section("autoencoder")

        def prepare(data, device):
            model = build_autoencoder_for(config, data)
            points = training_points(data, s.toy_points, config.train.seed)
            return lambda: AutoencoderTrainable(config, data.source, model, points, device)

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's autoencoder and code Gaussian from its newest intact checkpoint, in eval
        mode on the CPU (an image run's data is read only when an evaluation asks for it)."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        model = build_autoencoder_for(config, data)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            runs.restore(tensors, {}, {"autoencoder": model}, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        return SamplerRun(Path(path), config, data, model.eval(), None, step)


__all__ = ["AutoencoderRecipe", "build_autoencoder_for"]
