"""The semi-supervised GAN family (Salimans et al. 2016, "Improved techniques for training
GANs", sec. 5): a (K+1)-class D trained on ``semi.labels_per_class`` labelled images per class,
the unlabelled rest of the training split and G's samples; G trained by feature matching.

Nets: DCGAN's G (``model.noise``, ``noise_dim``, ``g_width``, ``g_depth``, ``g_fc``, ``ema``)
and DCGAN's D body with a K-logit head (`gankit.nets.semisupervised`; ``model.d_width``,
``d_depth``, ``d_fc``, ``d_norm``, ``spectral_norm``); rates ``optim.lr_d`` / ``lr_g``. The
run directory, loop, callbacks, image evaluation (of G's samples) and report are every
family's; the family adds D's ``heldout_accuracy`` and ``unlabelled_accuracy`` to each
evaluation and to ``final_metrics.json``, and ``RUN/classes.npz`` for the report.
``semi.adversarial = false`` is the supervised baseline: the same D on the labelled images
alone, the same steps, no G and no image metrics.
The GAN's game keys (``game.*``) and D's remedies that judge sets or classes (``model.pack``,
``model.minibatch_*``, ``model.conditional``, ``model.generators``, ``model.d_input``) mean
nothing here and are refused, naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import Tensor, nn

from gankit import runs
from gankit.config import Config, changed_settings
from gankit.data.checks import check_images
from gankit.data.sources import data_for_model
from gankit.errors import GankitError
from gankit.eval import evaluator_for
from gankit.nets.build import dcgan_generator
from gankit.nets.ema import make_ema
from gankit.nets.semisupervised import RealScore, SemiSupervisedDiscriminator
from gankit.recipes.base import LoadedRun, TrainOptions
from gankit.recipes.semisupervised.config import SemiConfig
from gankit.recipes.semisupervised.evaluation import (
    ClassifierEvaluator,
    accuracy_metrics,
    classify,
    write_classes,
)
from gankit.recipes.semisupervised.labelled import split_labelled
from gankit.recipes.semisupervised.step import CLASSIFIER_EMA, SemiSupervisedTrainable
from gankit.recipes.training import train_run
from gankit.train.trainable import source_inputs

FAMILY = "semi-supervised"
#: settings that mean nothing for this family, refused where set (a prefix ends with "." or "_")
NOT_FOR_SEMI = (
    "game.",
    "model.activation",
    "model.generators",
    "model.d_input",
    "model.pack",
    "model.minibatch_",
    "model.conditional",
    "train.precision",
    "train.channels_last",
)


def check_semi_config(config: Config) -> None:
    """Refuse, naming the key, a setting that means nothing for this family (`NOT_FOR_SEMI`),
    and nets other than DCGAN's."""
    for key, value in changed_settings(config, NOT_FOR_SEMI):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = '{FAMILY}' (its own keys are "
            "semi.*; D's loss is the (K+1)-class one, G's feature matching); leave "
            f"{key} at its default"
        )
    if config.model.arch not in ("mlp", "dcgan"):  # mlp: the default, images get DCGAN's
        raise GankitError(
            f"model.arch = {config.model.arch!r}: model.family = '{FAMILY}' trains DCGAN nets "
            "on images; set model.arch = 'dcgan'"
        )


def build_nets(config: Config, data) -> tuple[SemiSupervisedDiscriminator, nn.Module | None]:
    """(D, G) for ``data`` (images of K >= 2 classes); G is None for the baseline."""
    if getattr(data, "kind", "toy") != "images":
        raise GankitError(
            f"data.name = {config.data.name!r}: model.family = '{FAMILY}' needs labelled image "
            "data (digits, mnist, ...)"
        )
    if data.num_classes < 2:
        raise GankitError(
            f"data.name = {config.data.name!r}: model.family = '{FAMILY}' needs labelled images "
            f"of 2 classes or more; this data has {data.num_classes}"
        )
    channels, height, width = data.shape
    if height != width:
        raise GankitError(
            f"data.image_size: DCGAN needs square images, got {height}x{width}; set "
            "data.image_size to resize them"
        )
    m = config.model
    try:
        d = SemiSupervisedDiscriminator(
            channels,
            height,
            int(data.num_classes),
            m.d_width,
            m.d_norm,
            spectral_norm=m.spectral_norm,
            extra_layers=m.d_depth,
            hidden=m.d_fc,
        )
        g = None
        if config.section("semi").adversarial:
            g = dcgan_generator(m, channels, height)
    except ValueError as exc:
        raise GankitError(f"model: {exc}") from None
    return d, g


@dataclass
class SemiSupervisedRun(LoadedRun):
    """A trained semi-supervised GAN (or its supervised baseline) loaded back: ``generator``
    G (its EMA where kept; None for the baseline), ``discriminator`` D read as one score per
    image (`RealScore`), ``classifier`` D's K class logits."""

    classifier: SemiSupervisedDiscriminator | None = None

    @property
    def readout_loss(self) -> str:
        return "nonsaturating"  # sigmoid(log Z) = D(x) = Z / (Z + 1)

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        if self.generator is None:
            raise GankitError(
                f"{self.path} is a supervised baseline (semi.adversarial = false): it has no "
                "generator to sample"
            )
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path}'s generator is unconditional (a semi-supervised "
                "GAN's classes are D's; use gankit classify)"
            )
        return super().sample(n, seed=seed)

    def classify(self, images) -> tuple[np.ndarray, list[str]]:
        """D's class predictions ``(N,)`` int64 for ``images`` ``(N, C, H, W)`` (uint8, or
        float32 in [0, 1]) of the run's shape, and the lines to print beside them."""
        images = check_images(images, "images").numpy()
        shape = tuple(self.data.shape)
        if tuple(images.shape[1:]) != shape:
            raise GankitError(
                f"images of shape {tuple(images.shape[1:])}: {self.path} classifies images of "
                f"shape {shape} (C, H, W)"
            )
        labels = classify(self.classifier, images)
        counts = np.bincount(labels, minlength=self.classifier.num_classes)
        lines = [
            f"{self.path}: D's classes 0..{self.classifier.num_classes - 1} of {len(labels)} "
            f"images (step {self.step}); counts per class: {' '.join(map(str, counts))}"
        ]
        return labels, lines

    def family_metrics(self) -> dict[str, float]:
        """D's ``heldout_accuracy`` and ``unlabelled_accuracy`` (`accuracy_metrics`)."""
        semi = self.config.section("semi")
        _, unlabelled = split_labelled(
            self.data.train, semi.labels_per_class, self.config.train.seed
        )
        return accuracy_metrics(self.classifier, self.data, unlabelled.dataset)

    def evaluate(self, n=None, seed: int = 0, write: bool = False, on_draw=None) -> dict:
        """The image metrics of G's samples (none for the baseline) and D's held-out accuracy;
        ``write``: also ``RUN/classes.npz``."""
        if self.generator is None:
            metrics = {"step": self.step, **self.family_metrics()}
        else:
            metrics = super().evaluate(n, seed=seed, write=write, on_draw=on_draw)
        if write:
            write_classes(self.classifier, self.data, self.path)
        return metrics


class SemiSupervisedRecipe:
    """The semi-supervised GAN (see the module docstring)."""

    name = FAMILY
    #: what a resumed run cannot change: the nets, the data and its labelled draw, the streams
    frozen_on_resume = (
        "data.",
        "model.",
        "train.seed",
        "optim.name",
        "semi.labels_per_class",
        "semi.adversarial",
        "semi.classifier_ema",
    )

    def check(self, config: Config) -> None:
        check_semi_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train in ``options.out`` (`gankit.recipes.training.train_run`); the baseline with
        its own evaluator (`ClassifierEvaluator`: no samples to measure)."""
        semi: SemiConfig = config.section("semi")

        def prepare(data, device):
            d, g = build_nets(config, data)
            labelled, unlabelled = split_labelled(
                data.train, semi.labels_per_class, config.train.seed
            )
            inputs = source_inputs(data.source)
            return lambda: SemiSupervisedTrainable(
                config, data, labelled, unlabelled, d, g, device, inputs
            )

        def make_evaluator(config: Config, data, device):
            if semi.adversarial:
                return evaluator_for(config, data, device)
            return ClassifierEvaluator()

        return train_run(config, options, prepare, self.load, make_evaluator)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """D (and G's EMA, or G) from the newest intact checkpoint, in eval mode on the CPU; the
        classifier is D's average where ``semi.classifier_ema`` kept one, else D."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        d, g = build_nets(config, data)
        averaged = make_ema(d) if config.section("semi").classifier_ema > 0 else None

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            modules = {"D": d}
            if averaged is not None:
                modules[CLASSIFIER_EMA] = averaged
            if g is not None:
                name = runs.sampling_generator(tensors)
                modules[name] = g
            runs.restore(tensors, {}, modules, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        d.eval()
        classifier = d if averaged is None else averaged.eval()
        generator = None if g is None else g.eval()
        return SemiSupervisedRun(
            Path(path), config, data, generator, RealScore(d), step, classifier
        )


__all__ = ["SemiSupervisedRecipe", "SemiSupervisedRun", "build_nets", "check_semi_config"]
