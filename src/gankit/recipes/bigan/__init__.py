"""The BiGAN / ALI family (Donahue et al. 2017; Dumoulin et al. 2017): its config section
(`gankit.recipes.bigan.config`), its `Trainable` (`gankit.recipes.bigan.step`), the encoder's
metrics (`gankit.recipes.bigan.evaluation`) and its recipe (`gankit.recipes.bigan.recipe`)."""

from gankit.recipes.bigan.config import BiGanConfig
from gankit.recipes.bigan.recipe import BiGanRecipe, BiGanRun, build_bigan_for
from gankit.recipes.bigan.step import BiGanTrainable

__all__ = ["BiGanConfig", "BiGanRecipe", "BiGanRun", "BiGanTrainable", "build_bigan_for"]
