"""The semi-supervised GAN family (Salimans et al. 2016, sec. 5): its config section
(`gankit.recipes.semisupervised.config`, ``[semi]``), the labelled draw
(`gankit.recipes.semisupervised.labelled`), its `Trainable` (`gankit.recipes.semisupervised.step`),
its evaluation (`gankit.recipes.semisupervised.evaluation`) and its recipe
(`gankit.recipes.semisupervised.recipe`)."""

from gankit.recipes.semisupervised.config import SemiConfig
from gankit.recipes.semisupervised.recipe import SemiSupervisedRecipe, SemiSupervisedRun
from gankit.recipes.semisupervised.step import SemiSupervisedTrainable

__all__ = ["SemiConfig", "SemiSupervisedRecipe", "SemiSupervisedRun", "SemiSupervisedTrainable"]
