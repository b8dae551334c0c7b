"""The pix2pix family (Isola et al. 2017): paired image-to-image translation by a U-Net G against
a conditional PatchGAN D, on L1 + cGAN, trained by the same loop, run directory, evaluation,
report and guarantees as the GANs.

The pairs are built from an image dataset (`gankit.data.paired`, ``pix2pix.task``); the nets
are `gankit.nets.unet` and `gankit.nets.patchgan`; the objective `gankit.game.pix2pix` reuses
``game.loss``; ``model.ema`` keeps an EMA of G, which then translates. The other keys of
``game.*`` and ``model.*`` (but ``model.family`` and ``model.ema``) and
``train.precision`` / ``channels_last`` mean nothing here and are refused, naming the key, when
set away from their defaults; so is a loss that needs a Lipschitz critic (wasserstein).

A loaded run (`Pix2pixRun`) translates: ``translate(inputs)``; its ``sample(n)`` is the
translations of the held-out inputs (what its evaluation measures), and its final evaluation
writes ``RUN/translations.npz`` (held-out inputs, two translations, targets) for the report.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gankit import runs
from gankit.config import Config, GameConfig, ModelConfig, changed_settings
from gankit.data.checks import check_images, from_net, to_net
from gankit.data.grid import to_uint8
from gankit.data.paired import PairedSource
from gankit.data.sources import data_for_model, data_kind
from gankit.errors import GankitError
from gankit.eval.feature_space import lazy_feature_space
from gankit.nets.patchgan import PatchDiscriminator
from gankit.nets.unet import UNetGenerator
from gankit.recipes.base import (
    LoadedRun,
    TrainOptions,
    check_loss_without_critic,
    check_sample_count,
)
from gankit.recipes.pix2pix.config import Pix2pixConfig
from gankit.recipes.pix2pix.step import (
    HeldoutPairs,
    Pix2pixTrainable,
    agreement_by_input,
    summarize_translations,
    translate,
    translate_draws,
)
from gankit.recipes.training import train_run
from gankit.report.pix2pix_section import TRANSLATIONS, TRANSLATIONS_SHOWN

#: settings of other families, refused for pix2pix where set: every ``game.*`` key but the loss,
#: every ``model.*`` key but the family and G's EMA, and the GAN's precision switches
NOT_FOR_PIX2PIX = (
    *(f"game.{f.name}" for f in dataclasses.fields(GameConfig) if f.name != "loss"),
    *(
        f"model.{f.name}"
        for f in dataclasses.fields(ModelConfig)
        if f.name not in ("family", "ema")
    ),
    "train.precision",
    "train.channels_last",
)
#: the dropout seed of the translations the family metrics of a loaded run read
FINAL_FAMILY_SEED = 1
#: translations of each held-out input the final family metrics average over (different
#: dropout masks): on digits one draw's agreement moves by about 0.6 points from mask to mask
FINAL_FAMILY_DRAWS = 10
#: translations the final family metrics stop at where the held-out split is large: every
#: held-out input is translated (on MNIST 10,000: 2 draws each), fewer draws per input
FINAL_FAMILY_TRANSLATIONS = 20_000


def final_draws(heldout: int) -> int:
    """Translations of each of ``heldout`` inputs in the final family metrics:
    `FINAL_FAMILY_DRAWS`, fewer where that passes `FINAL_FAMILY_TRANSLATIONS` (at least 1):
    10 on the digits' 297, 2 on MNIST's 10,000."""
    return max(1, min(FINAL_FAMILY_DRAWS, math.ceil(FINAL_FAMILY_TRANSLATIONS / max(heldout, 1))))


def check_pix2pix_config(config: Config) -> None:
    """Refuse, naming the key, what pix2pix cannot train (see the module docstring)."""
    for key, value in changed_settings(config, NOT_FOR_PIX2PIX):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = 'pix2pix' (its own keys are "
            "pix2pix.*: task, l1_weight, adversarial, g_width, d_width, d_downs, dropout; "
            f"game.loss is its adversarial loss, model.ema G's EMA); leave {key} at its default"
        )
    check_loss_without_critic(config, "pix2pix's PatchGAN", "nonsaturating, hinge or least-squares")
    if data_kind(config.data) != "images":
        raise GankitError(
            f"model.family = 'pix2pix' translates images; data.name = {config.data.name!r} is "
            "toy data"
        )


def build_generator(config: Config, shape) -> UNetGenerator:
    s: Pix2pixConfig = config.section("pix2pix")
    return UNetGenerator(tuple(shape), width=s.g_width, dropout=s.dropout)


def build_discriminator(config: Config, shape) -> PatchDiscriminator | None:
    s: Pix2pixConfig = config.section("pix2pix")
    if not s.adversarial:
        return None
    return PatchDiscriminator(int(shape[0]), width=s.d_width, downs=s.d_downs)


@dataclass
class Pix2pixRun(LoadedRun):
    """A trained pix2pix run loaded back: ``generator`` is the U-Net (its EMA where the run kept
    one; eval mode, dropout on); no discriminator is kept (it reads pairs, not images)."""

    def __post_init__(self) -> None:
        self._pairs: HeldoutPairs | None = None
        self._final: tuple[dict[str, float], np.ndarray | None] | None = None
        self._space = lazy_feature_space(self.config, self.data)

    @property
    def task(self) -> str:
        return self.config.section("pix2pix").task

    @property
    def pairs(self) -> HeldoutPairs:
        """The held-out split as (input, target) pairs (its images read when first asked)."""
        if self._pairs is None:
            self._pairs = HeldoutPairs(self.data.heldout, self.task)
        return self._pairs

    def translate(self, inputs, seed: int = 0, name: str = "inputs") -> Tensor:
        """``(N, C, H, W)`` float32 translations in [0, 1] of ``inputs`` (the same layout, in
        the task's input form, float in [0, 1] or uint8), dropout masks seeded by ``seed``;
        `GankitError` naming ``name`` for inputs off that convention or of another shape than
        the run's images."""
        x = check_images(inputs, name)
        want = tuple(int(v) for v in self.data.shape)
        if tuple(x.shape[1:]) != want:
            layout = ", ".join(map(str, want))
            raise GankitError(
                f"{name}: shape {tuple(x.shape)}, but {self.path} translates (N, {layout}) "
                f"images ({self.task} inputs)"
            )
        rng = torch.Generator().manual_seed(seed)
        return from_net(translate(self.generator, to_net(x), rng))

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        """Translations (in [-1, 1]) of ``n`` held-out inputs, cycling through the split."""
        check_sample_count(n)
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path} is a pix2pix run, which translates inputs and is "
                "not class-conditional"
            )
        rng = torch.Generator().manual_seed(seed)
        return translate(self.generator, self.pairs.sources[self.pairs.cycled(n)], rng)

    def family_metrics(self) -> dict[str, float]:
        """``l1_error`` and ``translation_agreement`` over every held-out input, each
        translated `final_draws` times (seeded: the same for every call). The training's
        evaluations read the first 2,000 inputs once; the final numbers read them all, since
        on MNIST the first 2,000 read it about 3 points lower than all 10,000."""
        return dict(self._final_translations()[0])

    def agreement_by_input(self) -> np.ndarray | None:
        """``(N,)``: for each held-out input, the share of its translations read as its
        original's class: the very translations of :meth:`family_metrics`, whose
        ``translation_agreement`` is the mean; two runs' difference, input by input, is a
        paired comparison (None where the feature space has no classes)."""
        return self._final_translations()[1]

    def _final_translations(self) -> tuple[dict[str, float], np.ndarray | None]:
        """(the family metrics, the agreement by input) of the final translations, made and
        classified once per loaded run (on MNIST 20,000 translations through the classifier)."""
        if self._final is None:
            rng = torch.Generator().manual_seed(FINAL_FAMILY_SEED)
            n = len(self.pairs)
            translated = translate_draws(self.generator, self.pairs, rng, n, final_draws(n))
            by_input = agreement_by_input(translated, self.pairs, self._space(), n)
            self._final = (summarize_translations(translated, self.pairs, n, by_input), by_input)
        return self._final

    def write_family_files(self) -> None:
        """``RUN/translations.npz`` of a final evaluation: the first held-out inputs, two
        translations of each (different dropout masks) and targets."""
        self.write_translations()

    def write_translations(self, count: int = TRANSLATIONS_SHOWN) -> Path:
        pairs = self.pairs
        m = min(count, len(pairs))
        sources = pairs.sources[:m]
        first = translate(self.generator, sources, torch.Generator().manual_seed(0))
        second = translate(self.generator, sources, torch.Generator().manual_seed(1))
        arrays = {
            "inputs": to_uint8(from_net(sources)),
            "translations": to_uint8(from_net(first)),
            "translations_again": to_uint8(from_net(second)),
            "targets": to_uint8(from_net(pairs.targets[:m])),
        }
        if pairs.labels is not None:
            arrays["labels"] = np.asarray(pairs.labels[:m], dtype=np.int64)
        path = self.path / TRANSLATIONS
        runs.atomic_write_npz(path, arrays)
        return path


class Pix2pixRecipe:
    """pix2pix (see the module docstring)."""

    name = "pix2pix"
    #: what a resumed run cannot change: the nets' shapes, the pairs, the streams, the optimizer
    frozen_on_resume = (
        "data.",
        "train.seed",
        "optim.name",
        "pix2pix.task",
        "pix2pix.adversarial",
        "pix2pix.g_width",
        "pix2pix.d_width",
        "pix2pix.d_downs",
        "model.ema",
    )

    def check(self, config: Config) -> None:
        check_pix2pix_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train G (and D) in ``options.out`` (`gankit.recipes.training.train_run`)."""

        def prepare(data, device):
            generator = build_generator(config, data.shape)
            discriminator = build_discriminator(config, data.shape)
            pairs = HeldoutPairs(data.heldout, config.section("pix2pix").task)
            space = lazy_feature_space(config, data, device)
            task = config.section("pix2pix").task

            def make():
                source = PairedSource(data.source, task)
                return Pix2pixTrainable(
                    config, source, generator, discriminator, device, pairs, space
                )

            return make

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's U-Net (its EMA where the run kept one) from its newest intact checkpoint,
        in eval mode on the CPU; the data's images are read only when a translation of the
        held-out split is asked for."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        generator = build_generator(config, data.shape)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            name = runs.sampling_generator(tensors)
            runs.restore(tensors, {}, {name: generator}, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        return Pix2pixRun(Path(path), config, data, generator.eval(), None, step)


__all__ = ["Pix2pixRecipe", "Pix2pixRun", "check_pix2pix_config"]
