"""Probabilistic PCA as a model family (Tipping & Bishop 1999): fitted in closed form on the one
loop, sampled as ``mu + W z + sigma eps``, scored by its exact log-likelihood.

The fit set (`gankit.recipes.fit_set.training_points`: an image dataset's whole training split,
flattened; a toy's training set) is read once before anything is written; its mean and
covariance give ``W`` and ``sigma^2`` in closed form (`gankit.game.pca.ppca_fit`), which the
loop's one step lands on (`gankit.recipes.pca.step`). Evaluations add the held-out
``log_likelihood`` (nats per example) to the evaluator's metrics of the samples. The GAN's keys,
``optim.*`` (the phase is SGD at rate 1 by construction) and ``train.batch_size`` (each step
reads the whole fit set) mean nothing here and are refused, naming the key.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit import runs
from gankit.config import Config
from gankit.data.sources import data_for_model
from gankit.errors import GankitError
from gankit.game.pca import gaussian_mean_log_likelihood, moments, ppca_covariance, ppca_fit
from gankit.nets.pca import ProbabilisticPCA
from gankit.recipes.base import LoadedRun, TrainOptions
from gankit.recipes.fit_set import (
    GAN_SETTINGS,
    NO_OPTIMIZER_SETTINGS,
    SamplerRun,
    heldout_log_likelihood,
    is_images,
    refuse_settings,
    training_points,
)
from gankit.recipes.pca.config import PcaConfig
from gankit.recipes.pca.step import PcaTrainable
from gankit.recipes.training import train_run
from gankit.train.trainable import source_inputs

OWN_KEYS = "pca.*: components, toy_points"


def data_shape(data) -> tuple[int, ...]:
    """What the model is built for: ``(C, H, W)`` of images, ``(dim,)`` of points."""
    return tuple(data.shape) if is_images(data) else (data.dim,)


def build_pca_for(config: Config, data) -> ProbabilisticPCA:
    """An unfitted `ProbabilisticPCA` of ``pca.components`` for ``data``; refuses, naming
    ``pca.components``, a count not below the data's dimension."""
    s: PcaConfig = config.section("pca")
    model = ProbabilisticPCA(data_shape(data), s.components)
    if s.components >= model.dim:
        raise GankitError(
            f"pca.components = {s.components} must be below the data's dimension {model.dim} "
            "(sigma^2 is the mean variance of the directions left out)"
        )
    return model


def fit_targets(model: ProbabilisticPCA, points) -> tuple[dict, float]:
    """The closed-form parameters of ``model`` on ``points`` and the points' mean
    log-likelihood there; `GankitError` naming ``pca.components`` where the directions left
    out hold no variance."""
    mean, cov = moments(model.flatten(points))
    if not (torch.isfinite(mean).all() and torch.isfinite(cov).all()):
        raise GankitError("data: the fit set's mean or covariance is not finite")
    try:
        weight, sigma2 = ppca_fit(cov, model.components)
    except ValueError as exc:
        raise GankitError(f"pca.components = {model.components}: {exc}; use fewer") from None
    ll = gaussian_mean_log_likelihood(ppca_covariance(weight, sigma2), cov)
    return {"mean": mean, "weight": weight, "sigma2": sigma2}, float(ll)


class PcaRecipe:
    """Probabilistic PCA (see the module docstring)."""

    name = "pca"
    frozen_on_resume = ("data.", "train.seed", "pca.")

    def check(self, config: Config) -> None:
        refuse_settings(config, GAN_SETTINGS + NO_OPTIMIZER_SETTINGS, "pca", OWN_KEYS)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Fit and write the run in ``options.out`` (`gankit.recipes.training.train_run`)."""
        s: PcaConfig = config.section("pca")

        def prepare(data, device):
            model = build_pca_for(config, data)
            points = training_points(data, s.toy_points, config.train.seed)
            targets, train_ll = fit_targets(model, points)

            def heldout() -> dict[str, float]:
                return heldout_log_likelihood(model.log_prob, data, s.toy_points)

            inputs = source_inputs(data.source)
            return lambda: PcaTrainable(model, targets, train_ll, heldout, inputs)

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's model from its newest intact checkpoint (an image run's data is read only
        when an evaluation asks for it)."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        model = build_pca_for(config, data)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            runs.restore(tensors, {}, {"pca": model}, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        count = config.section("pca").toy_points
        return SamplerRun(Path(path), config, data, model.eval(), None, step, count)


__all__ = ["PcaRecipe", "build_pca_for", "fit_targets"]
