"""The RBM family: its config section (`gankit.recipes.rbm.config`), its `Trainable` (the CD
update, `gankit.recipes.rbm.step`), its likelihoods (`gankit.recipes.rbm.evaluation`) and its
recipe (`gankit.recipes.rbm.recipe`)."""

from gankit.recipes.rbm.config import RbmConfig
from gankit.recipes.rbm.recipe import RbmRecipe, RbmRun
from gankit.recipes.rbm.step import RbmTrainable

__all__ = ["RbmConfig", "RbmRecipe", "RbmRun", "RbmTrainable"]
