"""The InfoGAN family (Chen et al. 2016): its config section (`gankit.recipes.infogan.config`),
its `Trainable` (`gankit.recipes.infogan.step`), its code metrics and traversals
(`gankit.recipes.infogan.evaluation`) and its recipe (`gankit.recipes.infogan.recipe`)."""

from gankit.recipes.infogan.config import InfoGanConfig
from gankit.recipes.infogan.recipe import InfoGanRecipe, InfoGanRun, build_infogan_for
from gankit.recipes.infogan.step import InfoGanTrainable

__all__ = ["InfoGanConfig", "InfoGanRecipe", "InfoGanRun", "InfoGanTrainable", "build_infogan_for"]
