"""A Gaussian mixture as a model family: scikit-learn's EM, one iteration a step of the one
loop, sampled by drawing a component then its Gaussian, scored by its exact log-likelihood.

The fit set (`gankit.recipes.fit_set.training_points`: an image dataset's whole training split,
flattened; a toy's training set) is read once before anything is written. Evaluations add the
held-out ``log_likelihood`` (nats per example). The GAN's keys, ``optim.*`` (the phase is SGD at
rate 1 onto the M-step by construction) and ``train.batch_size`` (each step reads the whole fit
set) mean nothing here and are refused, naming the key.
"""

from __future__ import annotations

from pathlib import Path

from gankit import runs
from gankit.config import Config
from gankit.data.sources import data_for_model
from gankit.errors import GankitError
from gankit.nets.gmm import GaussianMixture
from gankit.recipes.base import LoadedRun, TrainOptions
from gankit.recipes.fit_set import (
    GAN_SETTINGS,
    NO_OPTIMIZER_SETTINGS,
    SamplerRun,
    heldout_log_likelihood,
    refuse_settings,
    training_points,
)
from gankit.recipes.gmm.config import GmmConfig
from gankit.recipes.gmm.step import GmmTrainable
from gankit.recipes.pca.recipe import data_shape
from gankit.recipes.training import train_run
from gankit.train.trainable import source_inputs

OWN_KEYS = "gmm.*: components, covariance, reg_covar, toy_points"


def build_gmm_for(config: Config, data) -> GaussianMixture:
    """An unfitted `GaussianMixture` of the ``[gmm]`` section for ``data``."""
    s: GmmConfig = config.section("gmm")
    return GaussianMixture(data_shape(data), s.components, s.covariance)


class GmmRecipe:
    """A Gaussian mixture (see the module docstring)."""

    name = "gmm"
    frozen_on_resume = ("data.", "train.seed", "gmm.components", "gmm.covariance")

    def check(self, config: Config) -> None:
        refuse_settings(config, GAN_SETTINGS + NO_OPTIMIZER_SETTINGS, "gmm", OWN_KEYS)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Fit and write the run in ``options.out`` (`gankit.recipes.training.train_run`)."""
        s: GmmConfig = config.section("gmm")

        def prepare(data, device):
            model = build_gmm_for(config, data)
            points = training_points(data, s.toy_points, config.train.seed)
            if points.shape[0] < s.components:
                raise GankitError(
                    f"gmm.components = {s.components}: the fit set holds only "
                    f"{points.shape[0]} examples"
                )
            flat = model.flatten(points).numpy()

            def heldout() -> dict[str, float]:
                return heldout_log_likelihood(model.log_prob, data, s.toy_points)

            inputs = source_inputs(data.source)
            return lambda: GmmTrainable(model, flat, config, heldout, inputs)

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's mixture from its newest intact checkpoint (an image run's data is read
        only when an evaluation asks for it)."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        model = build_gmm_for(config, data)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            runs.restore(tensors, {}, {"gmm": model}, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        count = config.section("gmm").toy_points
        return SamplerRun(Path(path), config, data, model.eval(), None, step, count)


__all__ = ["GmmRecipe", "build_gmm_for"]
