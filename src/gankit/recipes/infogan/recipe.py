"""The InfoGAN family (Chen et al. 2016): a DCGAN whose G reads a categorical code and
continuous codes beside its noise, and a Q head on D's features that reads them back, trained
on the mutual-information bound beside the GAN's game (`gankit.recipes.infogan.step`), by the
same loop, run directory, evaluation and report as every family.

Its keys live in ``[infogan]`` (`gankit.recipes.infogan.config`); the GAN's ``game.*``,
``model.*`` and ``optim.*`` keys mean what they mean for a GAN, except the ones that do not fit
a Q reading single images or an unconditional code (`NOT_FOR_INFOGAN`), refused naming the key.
Images only. Each evaluation adds the code metrics (`gankit.recipes.infogan.evaluation`: the
code's Hungarian-matched class accuracy on generated images, Q's on real held-out ones); the
end of the run writes the latent traversals (``RUN/infogan/traversal-cJ.png``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from gankit import runs
from gankit.config import Config, changed_settings
from gankit.data.checks import check_images, from_net, to_net
from gankit.data.sources import data_for_model
from gankit.errors import GankitError
from gankit.eval.base import eval_stream
from gankit.eval.feature_space import FeatureSpace, resolve_feature_space
from gankit.game.augment import parse_policy
from gankit.game.game import Game
from gankit.nets.infogan import InfoGenerator, QHead, build_infogan_models
from gankit.recipes.base import LoadedRun, TrainOptions, check_sample_count
from gankit.recipes.gan import GAN_FROZEN_ON_RESUME, check_gan_config
from gankit.recipes.infogan.config import InfoGanConfig
from gankit.recipes.infogan.evaluation import (
    CODE_SEED_OFFSET,
    check_feature_space,
    code_matching,
    code_metrics,
    q_codes,
    write_traversals,
)
from gankit.recipes.infogan.step import InfoGanTrainable, generate_codes
from gankit.recipes.training import train_run

#: settings of the GAN that mean nothing (or do not fit) for InfoGAN, refused where set
NOT_FOR_INFOGAN = (
    "model.conditional",
    "model.generators",
    "model.pack",
    "model.d_input",
    "game.diversity",
    "game.unroll",
    "game.boost_rounds",
)
#: the seed offset of the final evaluation's code metrics and of the traversals' z
FINAL_SEED_OFFSET = 77_777


def check_infogan_config(config: Config) -> None:
    """``game.loss`` against its registry, the refusals of `NOT_FOR_INFOGAN` and Q's
    augmentation policy, naming the key; before anything is written."""
    check_gan_config(config)
    try:
        parse_policy(config.section("infogan").q_augment)
    except ValueError as exc:
        raise GankitError(f"infogan.q_augment: {exc}") from None
    for key, value in changed_settings(config, NOT_FOR_INFOGAN):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = 'infogan' (Q reads one "
            "unconditional image at a time, from one G); leave it at its default"
        )


def build_infogan_for(config: Config, data) -> tuple[InfoGenerator, nn.Module, QHead]:
    """``(G, D, Q)`` of ``config`` for image ``data`` (`gankit.nets.infogan`); toy data is
    refused, naming ``data.name``."""
    if getattr(data, "kind", "toy") != "images":
        raise GankitError(
            f"data.name = {config.data.name!r} is toy data; model.family = 'infogan' trains "
            "on images (digits, mnist, ...)"
        )
    s: InfoGanConfig = config.section("infogan")
    return build_infogan_models(
        config.model, data.shape, s.categories, s.continuous, s.q_width, s.noise_scale
    )


def code_space(config: Config, data, device="cpu") -> FeatureSpace:
    """The run's feature space (the image evaluator's), refused without class logits."""
    space = resolve_feature_space(config, data, device)
    check_feature_space(space)
    return space


@dataclass
class InfoGanRun(LoadedRun):
    """A trained InfoGAN loaded back: ``generator`` G (its EMA where kept), ``discriminator``
    D, ``q`` Q's head on D's features. Samples draw the codes from their prior; `sample_code`
    fixes the categorical one; `classify` reads Q's code of images."""

    q: QHead | None = None

    @property
    def section(self) -> InfoGanConfig:
        return self.config.section("infogan")

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        check_sample_count(n)
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path} is an InfoGAN, which is not class-conditional "
                "(ask for a value of its categorical code with --code K)"
            )
        rng = torch.Generator().manual_seed(seed)
        return generate_codes(self.generator, self.config.model, self.section, n, rng)

    def sample_code(self, n: int, code: int, seed: int = 0) -> Tensor:
        """``(n, C, H, W)`` images in [-1, 1], every one with categorical code ``code`` (z
        and the continuous codes drawn from ``seed``)."""
        check_sample_count(n)
        k = self.section.categories
        if not 0 <= code < k:
            raise GankitError(f"--code {code}: {self.path}'s categorical code takes 0..{k - 1}")
        rng = torch.Generator().manual_seed(seed)
        codes = torch.full((n,), code, dtype=torch.int64)
        return generate_codes(self.generator, self.config.model, self.section, n, rng, code=codes)

    def export_code(self, n: int, code: int, seed: int = 0) -> Tensor:
        """`sample_code` as float32 in [0, 1] (the convention of files at gankit's edges)."""
        return from_net(self.sample_code(n, code, seed))

    def _final_rng(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.config.train.seed + FINAL_SEED_OFFSET)

    def family_metrics(self) -> dict:
        """The code metrics of the final evaluation (`gankit.recipes.infogan.evaluation`)."""
        space = code_space(self.config, self.data)
        return code_metrics(
            self.generator,
            self.discriminator,
            self.q,
            self.config.model,
            self.section,
            space,
            self.data.heldout.images,
            self.data.heldout.labels,
            self._final_rng(),
        )

    def write_family_files(self) -> None:
        """The latent traversals of a final evaluation (``RUN/infogan/traversal-cJ.png``)."""
        seed = self.config.train.seed + FINAL_SEED_OFFSET
        write_traversals(self.generator, self.config.model, self.section, self.path, seed)

    def code_to_class(self) -> list[int]:
        """The class matched to each code value: the final evaluation's (from
        ``final_metrics.json``) where the run has one, else found now on generated images."""
        final = self.path / runs.FINAL
        try:
            matching = json.loads(final.read_text(encoding="utf-8")).get("code_class_matching")
        except (OSError, ValueError, AttributeError):
            matching = None
        if isinstance(matching, list) and len(matching) == self.section.categories:
            return [int(k) for k in matching]
        space = code_space(self.config, self.data)
        metrics, _, _ = code_matching(
            self.generator, self.config.model, self.section, space, self._final_rng()
        )
        return metrics["code_class_matching"]

    def classify(self, images: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Q's categorical code ``(N,)`` int64, in the code's own numbering, of ``images``
        ``(N, C, H, W)`` (uint8, or float in [0, 1]; the run's image shape); and lines saying
        which class each code value was matched to (on generated images, no label seen)."""
        images = np.asarray(images)
        if images.ndim != 4 or tuple(images.shape[1:]) != tuple(self.data.shape):
            shape = "x".join(map(str, self.data.shape))
            raise GankitError(
                f"IMAGES: {self.path} was trained on images of shape {shape}, got "
                f"{tuple(images.shape)} (give (N, C, H, W) uint8 or float32 in [0, 1])"
            )
        x = to_net(check_images(images, "IMAGES"))
        codes = q_codes(self.discriminator, self.q, x)
        matching = self.code_to_class()
        pairs = " ".join(f"{k}->{c}" for k, c in enumerate(matching))
        lines = [
            "InfoGAN: labels are Q's categorical code in its own numbering; code -> class "
            f"(Hungarian matching on generated images): {pairs}"
        ]
        return codes, lines


class InfoGanRecipe:
    """InfoGAN (see the module docstring)."""

    name = "infogan"
    #: a GAN's, and the codes and Q's shape
    frozen_on_resume = (
        *GAN_FROZEN_ON_RESUME,
        "infogan.categories",
        "infogan.continuous",
        "infogan.q_width",
        "infogan.noise_scale",
        "infogan.q_augment",  # whether the checkpoint holds Q's augmentation stream
    )

    def check(self, config: Config) -> None:
        check_infogan_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train G, D and Q in ``options.out`` (`gankit.recipes.training.train_run`)."""
        section: InfoGanConfig = config.section("infogan")

        def prepare(data, device):
            generator, discriminator, q = build_infogan_for(config, data)
            Game(config.game, model=config.model).check_discriminator(discriminator)
            space = code_space(config, data, device) if config.log.eval_every > 0 else None

            def family_metrics(trainable: InfoGanTrainable, step: int) -> dict:
                rng = eval_stream(config.train.seed + CODE_SEED_OFFSET, step)
                return code_metrics(
                    trainable.sampler,
                    trainable.D,
                    trainable.Q,
                    config.model,
                    section,
                    space,
                    data.heldout.images,
                    data.heldout.labels,
                    rng,
                    device,
                )

            def make() -> InfoGanTrainable:
                metrics = family_metrics if space is not None else None
                return InfoGanTrainable(
                    config, data.source, generator, discriminator, q, device, metrics
                )

            return make

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's G (its EMA where kept), D and Q from its newest intact checkpoint, in
        eval mode on the CPU; its data is read only when an evaluation asks for it."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        generator, discriminator, q = build_infogan_for(config, data)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            name = runs.sampling_generator(tensors)
            modules = {name: generator, "D": discriminator, "Q": q}
            runs.restore(tensors, {}, modules, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        return InfoGanRun(
            Path(path), config, data, generator.eval(), discriminator.eval(), step, q.eval()
        )


__all__ = ["InfoGanRecipe", "InfoGanRun", "build_infogan_for", "check_infogan_config"]
