"""The BiGAN / ALI family (Donahue et al. 2017; Dumoulin et al. 2017): G(z) -> x beside an
encoder E(x) -> z, both against a joint discriminator D(x, z) of (data, code) pairs
(`gankit.recipes.bigan.step`), by the same loop, run directory, evaluation and report as every
family; on images (DCGAN nets) and on the toys' points (MLPs), `gankit.nets.bigan`.

Its keys live in ``[bigan]`` (`gankit.recipes.bigan.config`); ``model.*`` shapes the nets (G as
the GAN's; E and D's data stream with ``d_width`` / ``d_depth``; codes of ``noise_dim`` drawn
from ``noise``), ``game.loss`` and ``game.d_steps`` the game, ``optim.lr_d`` D's rate and
``optim.lr_g`` G and E's. What reads D on single points or images (penalties, instance noise,
label smoothing, DiffAugment, unrolling, feature matching), what needs several generators,
packs or classes, G's EMA (E would not follow it) and the Lipschitz ``wasserstein`` loss are
refused, naming the key (`NOT_FOR_BIGAN`).

Each evaluation adds the encoder's metrics (`gankit.recipes.bigan.evaluation`); a loaded run
(`BiGanRun`) encodes and reconstructs (`gankit encode`, `gankit reconstruct`), and its final
evaluation writes ``RUN/reconstructions.npz`` for the report's section.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from gankit import runs
from gankit.config import Config, changed_settings
from gankit.data.checks import check_images, from_net, to_net
from gankit.data.grid import to_uint8
from gankit.data.sources import data_for_model, data_kind
from gankit.errors import GankitError
from gankit.eval.feature_space import lazy_feature_space
from gankit.nets.bigan import build_bigan_models, fit_standardization
from gankit.recipes.base import (
    LoadedRun,
    TrainOptions,
    check_loss_without_critic,
    check_sample_count,
)
from gankit.recipes.bigan.config import BiGanConfig
from gankit.recipes.bigan.evaluation import encode, measures_for, reconstruct
from gankit.recipes.bigan.step import BiGanTrainable, bigan_samples
from gankit.recipes.training import train_run
from gankit.report.bigan_section import RECONSTRUCTIONS, RECONSTRUCTIONS_SHOWN

#: settings of the GAN that mean nothing (or do not fit) for BiGAN, refused where set
NOT_FOR_BIGAN = (
    "model.conditional",
    "model.generators",
    "model.pack",
    "model.d_input",
    "model.minibatch_",
    "model.g_fc",
    "model.d_fc",
    "model.spectral_norm",
    "model.ema",
    "game.clip",
    "game.penalties",
    "game.penalty_every",
    "game.label_smoothing",
    "game.instance_noise",
    "game.feature_matching",
    "game.adversarial_g",
    "game.boost_rounds",
    "game.unroll",
    "game.diversity",
    "game.augment",
    "train.precision",
    "train.channels_last",
)
#: points drawn (seeded by ``train.seed``) to fit a toy's standard units, as the GAN's
STANDARDIZE_SAMPLES = 10_000
STANDARDIZE_SEED_OFFSET = 104729


def check_bigan_config(config: Config) -> None:
    """The refusals of `NOT_FOR_BIGAN` and of a Lipschitz loss, naming the key; before
    anything is written."""
    for key, value in changed_settings(config, NOT_FOR_BIGAN):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = 'bigan' (its D reads (x, z) "
            "pairs of one unconditional G and an encoder; its own keys are bigan.*); leave "
            f"{key} at its default"
        )
    check_loss_without_critic(
        config, "BiGAN's joint D", "nonsaturating, minimax, hinge or least-squares"
    )
    kind = data_kind(config.data)
    arch = config.model.arch
    if (kind == "images") != (arch == "dcgan"):
        want = "dcgan" if kind == "images" else "mlp"
        raise GankitError(
            f"model.arch = {arch!r}: BiGAN on {config.data.name!r} ({kind}) needs "
            f"model.arch = {want!r}"
        )


def build_bigan_for(config: Config, data) -> tuple[nn.Module, nn.Module, nn.Module]:
    """``(G, E, D)`` of ``config`` for ``data`` (`gankit.nets.bigan`); a toy's nets get their
    standard units fitted to points drawn with ``train.seed`` (where ``model.standardize``)."""
    s: BiGanConfig = config.section("bigan")
    images = getattr(data, "kind", "toy") == "images"
    shape = tuple(int(v) for v in data.shape) if images else int(data.dim)
    nets = build_bigan_models(
        config.model,
        shape,
        joint_width=s.joint_width,
        dropout=s.dropout,
        stochastic=s.stochastic_encoder,
    )
    if not images and config.model.standardize:
        seed = config.train.seed + STANDARDIZE_SEED_OFFSET
        points = data.sample(STANDARDIZE_SAMPLES, torch.Generator().manual_seed(seed))
        fit_standardization(nets, points.float())
    return nets


@dataclass
class BiGanRun(LoadedRun):
    """A trained BiGAN loaded back: ``generator`` G, ``encoder`` E (eval mode, on the CPU);
    ``discriminator`` None (the joint D reads pairs, not points: nothing to read out)."""

    encoder: nn.Module | None = None

    def __post_init__(self) -> None:
        self._measures = None

    @property
    def section(self) -> BiGanConfig:
        return self.config.section("bigan")

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        check_sample_count(n)
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path} is a BiGAN run, which is not class-conditional"
            )
        return bigan_samples(
            self.generator, self.config.model, n, torch.Generator().manual_seed(seed)
        )

    def _checked(self, images, name: str) -> Tensor:
        """``images`` (``(N, C, H, W)`` float in [0, 1] or uint8, the run's image shape) in the
        nets' units; `GankitError` naming ``name`` otherwise."""
        if self.data.kind != "images":
            raise GankitError(
                f"{self.path} is a BiGAN of points ({self.config.data.name}): gankit encode and "
                "reconstruct read image runs"
            )
        x = check_images(images, name)
        want = tuple(int(v) for v in self.data.shape)
        if tuple(x.shape[1:]) != want:
            layout = ", ".join(map(str, want))
            raise GankitError(
                f"{name}: shape {tuple(x.shape)}, but {self.path} was trained on (N, {layout}) "
                "images"
            )
        return to_net(x)

    def encode(self, images, name: str = "IMAGES") -> Tensor:
        """``(N, z_dim)`` float32 codes ``E(x)`` (the mean of ALI's stochastic E) of ``images``
        (``(N, C, H, W)`` float32 in [0, 1] or uint8)."""
        return encode(self.encoder, self._checked(images, name))

    def reconstruct(self, images, name: str = "IMAGES") -> Tensor:
        """``(N, C, H, W)`` float32 reconstructions ``G(E(x))`` in [0, 1] of ``images``."""
        return from_net(reconstruct(self.generator, self.encoder, self._checked(images, name)))

    def family_metrics(self) -> dict[str, float]:
        """The encoder's metrics on the whole held-out split (`gankit.recipes.bigan.evaluation`)."""
        if self._measures is None:
            space = lazy_feature_space(self.config, self.data)
            self._measures = measures_for(self.data, space, self.section.probe_train)
        return self._measures(self.generator, self.encoder, None)

    def write_family_files(self) -> None:
        """``RUN/reconstructions.npz`` of a final evaluation (images only): the first held-out
        images, their reconstructions and labels."""
        if self.data.kind != "images":
            return
        heldout = self.data.heldout
        m = min(RECONSTRUCTIONS_SHOWN, len(heldout.images))
        x = to_net(heldout.images[:m])
        arrays = {
            "images": to_uint8(from_net(x)),
            "reconstructions": to_uint8(from_net(reconstruct(self.generator, self.encoder, x))),
        }
        if heldout.labels is not None:
            arrays["labels"] = np.asarray(heldout.labels[:m], dtype=np.int64)
        runs.atomic_write_npz(self.path / RECONSTRUCTIONS, arrays)


class BiGanRecipe:
    """BiGAN / ALI (see the module docstring)."""

    name = "bigan"
    #: what a resumed run cannot change: the nets (every model key shapes them), the data, the
    #: streams, the optimizer
    frozen_on_resume = (
        "data.",
        "train.seed",
        "optim.name",
        "model.",
        "bigan.stochastic_encoder",
        "bigan.joint_width",
    )

    def check(self, config: Config) -> None:
        check_bigan_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train G, E and D in ``options.out`` (`gankit.recipes.training.train_run`)."""
        section: BiGanConfig = config.section("bigan")

        def prepare(data, device):
            generator, encoder, discriminator = build_bigan_for(config, data)
            measures = measures_for(
                data, lazy_feature_space(config, data, device), section.probe_train
            )

            def family_metrics(trainable: BiGanTrainable, step: int) -> dict:
                return measures(trainable.G, trainable.E, section.eval_heldout)

            def make() -> BiGanTrainable:
                metrics = family_metrics if config.log.eval_every > 0 else None
                return BiGanTrainable(
                    config, data.source, generator, encoder, discriminator, device, metrics
                )

            return make

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's G, E (and D, kept only in the checkpoint) from its newest intact
        checkpoint, in eval mode on the CPU; an image run's data is read only when asked."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        generator, encoder, discriminator = build_bigan_for(config, data)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            modules = {"G": generator, "E": encoder, "D": discriminator}
            runs.restore(tensors, {}, modules, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        return BiGanRun(
            Path(path), config, data, generator.eval(), None, step, encoder=encoder.eval()
        )


__all__ = ["BiGanRecipe", "BiGanRun", "build_bigan_for", "check_bigan_config"]
