"""The autoencoder decoder as a generator: its config section
(`gankit.recipes.autoencoder.config`), its `Trainable` (`gankit.recipes.autoencoder.step`) and
its recipe (`gankit.recipes.autoencoder.recipe`)."""

from gankit.recipes.autoencoder.config import AutoencoderConfig
from gankit.recipes.autoencoder.recipe import AutoencoderRecipe, build_autoencoder_for
from gankit.recipes.autoencoder.step import AutoencoderTrainable, fit_code_gaussian

__all__ = [
    "AutoencoderConfig",
    "AutoencoderRecipe",
    "AutoencoderTrainable",
    "build_autoencoder_for",
    "fit_code_gaussian",
]
