"""The RBM family: a Bernoulli-Bernoulli restricted Boltzmann machine on binarised images,
trained by contrastive divergence (CD-k, Hinton 2002) or persistent CD (Tieleman 2008;
scikit-learn's `BernoulliRBM`) on the same loop, run directory, evaluation, report and
guarantees as the GANs.

Samples are Gibbs chains from uniform random bits (``rbm.sample_steps`` sweeps), the last
sweep's means in [-1, 1] like a G's images, so `gankit sample`, `evaluate`, `report` and
`compare` read an RBM run as a GAN's. Its likelihoods come through the family hook
(`gankit.recipes.rbm.evaluation`). Its keys live in ``[rbm]`` (`gankit.recipes.rbm.config`);
every ``game.*`` and ``model.*`` key but ``model.family``, ``optim.lr_d`` / ``lr_g`` and the
GAN's precision switches mean nothing here and are refused, naming the key.

On a 2-D toy (ring-8, grid-25, ...) the plane is cut into a grid of ``2^rbm.grid_bits`` bins
per axis, each point written as its bins' Gray codes (`gankit.data.discretize`; the box is a
function of the toy alone, so a reloaded run rebuilds it): the RBM models those bits, its
samples are decoded back to points (each uniform in its cell) for the toy evaluator, and its
likelihood is exact (`gankit.recipes.rbm.evaluation.toy_rbm_metrics`). There, the image keys
``rbm.binarize``, ``ais_betas``, ``ais_chains`` mean nothing and are refused, as
``rbm.grid_bits`` is on images; 1-D toys are refused.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from gankit import runs
from gankit.config import Config, GameConfig, ModelConfig, changed_settings, image_settings
from gankit.data.discretize import PointGrid, grid_for
from gankit.data.sources import build_toy, data_for_model, data_kind
from gankit.errors import GankitError
from gankit.eval.base import eval_stream
from gankit.nets.rbm import RBM
from gankit.recipes.base import LoadedRun, TrainOptions, check_sample_count
from gankit.recipes.rbm.config import RbmConfig
from gankit.recipes.rbm.evaluation import (
    PL_SEED_OFFSET,
    final_rbm_metrics,
    mean_pseudo_likelihood,
    toy_rbm_metrics,
    write_chain_strip,
)
from gankit.recipes.rbm.step import (
    BinaryImages,
    BinaryPoints,
    RbmTrainable,
    fixed_bits,
    gibbs_points,
    gibbs_samples,
)
from gankit.recipes.training import train_run
from gankit.train.trainable import source_inputs

#: settings of other families, refused for an RBM where set
NOT_FOR_AN_RBM = (
    *(f"game.{f.name}" for f in dataclasses.fields(GameConfig)),
    *(f"model.{f.name}" for f in dataclasses.fields(ModelConfig) if f.name != "family"),
    "data.clusters",
    "optim.lr_d",
    "optim.lr_g",
    "train.precision",
    "train.channels_last",
)
#: the RBM's keys that mean something for images only, and for 2-D toys only
IMAGE_ONLY = ("rbm.binarize", "rbm.ais_betas", "rbm.ais_chains")
TOY_ONLY = ("rbm.grid_bits",)
#: the seed of the final evaluation's chain strip
STRIP_SEED = 5


def check_rbm_config(config: Config) -> None:
    """Refuse, naming the key, what an RBM cannot train (see the module docstring)."""
    for key, value in changed_settings(config, NOT_FOR_AN_RBM):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = 'rbm' (its own keys are "
            "rbm.*: hidden, lr, cd_k, persistent, binarize, sample_steps, ais_betas, "
            f"ais_chains, grid_bits); leave {key} at its default"
        )
    toy = data_kind(config.data) == "toy"
    if toy and build_toy(config.data).dim != 2:
        raise GankitError(
            f"model.family = 'rbm' models binarised images or 2-D toys on a grid of bits; "
            f"data.name = {config.data.name!r} is a 1-D toy"
        )
    for key, value in changed_settings(config, IMAGE_ONLY if toy else TOY_ONLY):
        what = "binarised images" if toy else "2-D toys (the grid the plane is cut into)"
        raise GankitError(
            f"{key} = {value!r} means something for {what} only; data.name = "
            f"{config.data.name!r}: leave {key} at its default"
        )
    if toy:
        for key, value in image_settings(config):
            raise GankitError(
                f"{key} = {value!r} is for image data; data.name = {config.data.name!r} is a toy"
            )


def build_rbm(config: Config, shape) -> RBM:
    return RBM(tuple(shape), config.section("rbm").hidden)


def toy_grid(config: Config, data) -> PointGrid | None:
    """A toy's `PointGrid` of ``rbm.grid_bits`` bits per coordinate; None for images."""
    if getattr(data, "kind", "toy") == "images":
        return None
    return grid_for(data.distribution, config.section("rbm").grid_bits)


def visible_shape(data, grid: PointGrid | None) -> tuple[int, ...]:
    """What the RBM's visible units are read as: an image's ``(C, H, W)``, a toy's ``(V,)``."""
    return tuple(data.shape) if grid is None else (grid.visible,)


def training_bits(data, mode: str) -> Tensor:
    """``(N, V)`` the training split's one fixed binarisation (its AIS base rates and its
    log-likelihood), drawn as the held-out split's."""
    return fixed_bits(data.train.images, mode)


@dataclass
class RbmRun(LoadedRun):
    """A trained RBM loaded back: ``generator`` is the RBM (sampled by Gibbs chains); it has no
    discriminator and no classes to ask for. ``grid``: a toy's grid of bits (None: images)."""

    grid: PointGrid | None = None

    @property
    def section(self) -> RbmConfig:
        return self.config.section("rbm")

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        check_sample_count(n)
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path} is an RBM, which is not class-conditional"
            )
        rng = torch.Generator().manual_seed(seed)
        if self.grid is not None:
            return gibbs_points(self.generator, self.grid, n, self.section.sample_steps, rng)
        return gibbs_samples(self.generator, n, self.section.sample_steps, rng)[0]

    def family_metrics(self) -> dict[str, float]:
        """The likelihoods of `gankit.recipes.rbm.evaluation.final_rbm_metrics` (seeded:
        the same for every call); a toy's exact ones (`toy_rbm_metrics`)."""
        if self.grid is not None:
            return toy_rbm_metrics(self.generator, self.grid, self.data, final=True)
        mode = self.section.binarize
        return final_rbm_metrics(
            self.generator,
            fixed_bits(self.data.heldout.images, mode),
            training_bits(self.data, mode),
            self.section,
            self.config.train.seed,
        )

    def write_family_files(self) -> None:
        """``RUN/rbm/chain.png`` (and ``chain.json``): samples along Gibbs chains (images;
        a toy's samples are the evaluator's scatter plots)."""
        if self.grid is not None:
            return
        seed = self.config.train.seed + STRIP_SEED
        write_chain_strip(self.generator, self.section.sample_steps, self.path, seed)


class RbmRecipe:
    """An RBM (see the module docstring)."""

    name = "rbm"
    #: what a resumed run cannot change: the model's shape, the chains, the data and streams
    frozen_on_resume = (
        "data.",
        "train.seed",
        "train.batch_size",
        "optim.name",
        "rbm.hidden",
        "rbm.persistent",
        "rbm.binarize",
        "rbm.grid_bits",
    )

    def check(self, config: Config) -> None:
        check_rbm_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train the RBM in ``options.out`` (`gankit.recipes.training.train_run`)."""

        def prepare(data, device):
            section: RbmConfig = config.section("rbm")
            grid = toy_grid(config, data)
            if grid is not None:
                return self._prepare_toy(config, data, device, grid)
            model = build_rbm(config, data.shape)
            heldout = fixed_bits(data.heldout.images, section.binarize)
            seed = config.train.seed + PL_SEED_OFFSET

            def family_metrics(rbm: RBM, step: int) -> dict:
                return {
                    "pseudo_likelihood": mean_pseudo_likelihood(
                        rbm, heldout, eval_stream(seed, step)
                    )
                }

            def make():
                images = BinaryImages(data.train.images, section.binarize, device)
                inputs = source_inputs(data.source)
                return RbmTrainable(config, images, model, device, inputs, family_metrics)

            return make

        return train_run(config, options, prepare, self.load)

    @staticmethod
    def _prepare_toy(config: Config, data, device, grid: PointGrid):
        """The trainable's maker on a 2-D toy: bits of fresh points, the exact likelihood."""
        model = build_rbm(config, (grid.visible,))

        def family_metrics(rbm: RBM, step: int) -> dict:
            return toy_rbm_metrics(rbm, grid, data)

        def make():
            points = BinaryPoints(data.source, grid, device)
            inputs = source_inputs(data.source)
            return RbmTrainable(config, points, model, device, inputs, family_metrics, grid)

        return make

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's RBM from its newest intact checkpoint, on the CPU; an image run's data is
        read only when its evaluation asks for it."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        grid = toy_grid(config, data)
        model = build_rbm(config, visible_shape(data, grid))

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            runs.restore(tensors, {}, {"rbm": model}, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        return RbmRun(Path(path), config, data, model.eval(), None, step, grid)


__all__ = ["NOT_FOR_AN_RBM", "RbmRecipe", "RbmRun", "check_rbm_config"]
