"""The VAE family: its config section (`gankit.recipes.vae.config`), its `Trainable` (the
negative ELBO, `gankit.recipes.vae.step`) and its recipe (`gankit.recipes.vae.recipe`)."""

from gankit.recipes.vae.config import VaeConfig
from gankit.recipes.vae.recipe import VaeRecipe, VaeRun, build_vae_for
from gankit.recipes.vae.step import VaeTrainable, elbo_terms

__all__ = ["VaeConfig", "VaeRecipe", "VaeRun", "VaeTrainable", "build_vae_for", "elbo_terms"]
