"""Probabilistic PCA as a family: its config section (`gankit.recipes.pca.config`), its
closed-form `Trainable` (`gankit.recipes.pca.step`) and its recipe (`gankit.recipes.pca.recipe`)."""

from gankit.recipes.pca.config import PcaConfig
from gankit.recipes.pca.recipe import PcaRecipe, build_pca_for, fit_targets
from gankit.recipes.pca.step import PcaTrainable, closed_form_step, rate_one_sgd

__all__ = [
    "PcaConfig",
    "PcaRecipe",
    "PcaTrainable",
    "build_pca_for",
    "closed_form_step",
    "fit_targets",
    "rate_one_sgd",
]
