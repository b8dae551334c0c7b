"""The Gaussian mixture as a family: its config section (`gankit.recipes.gmm.config`), its EM
`Trainable` (`gankit.recipes.gmm.step`) and its recipe (`gankit.recipes.gmm.recipe`)."""

from gankit.recipes.gmm.config import GmmConfig
from gankit.recipes.gmm.recipe import GmmRecipe, build_gmm_for
from gankit.recipes.gmm.step import GmmTrainable, em_iteration

__all__ = ["GmmConfig", "GmmRecipe", "GmmTrainable", "build_gmm_for", "em_iteration"]
