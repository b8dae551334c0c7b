"""The pix2pix family (Isola et al. 2017): its config section (`gankit.recipes.pix2pix.config`),
its `Trainable` (`gankit.recipes.pix2pix.step`) and its recipe (`gankit.recipes.pix2pix.recipe`)."""

from gankit.recipes.pix2pix.config import Pix2pixConfig
from gankit.recipes.pix2pix.recipe import Pix2pixRecipe, Pix2pixRun
from gankit.recipes.pix2pix.step import Pix2pixTrainable, translation_metrics

__all__ = [
    "Pix2pixConfig",
    "Pix2pixRecipe",
    "Pix2pixRun",
    "Pix2pixTrainable",
    "translation_metrics",
]
