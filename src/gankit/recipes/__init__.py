"""Model families, one recipe each, found in one registry by the config.

``RECIPES`` maps a name to the recipe that builds, trains, loads and samples that family
(`gankit.recipes.base.Recipe`). `recipe_name` reads it from the config: ``model.family``
(``gan``, ``vae``; the classical baselines will add theirs), except that a GAN with
``game.boost_rounds > 0`` is trained as AdaGAN's rounds (``adagan``).
"""

from __future__ import annotations

from pathlib import Path

from gankit import config as config_mod
from gankit import runs
from gankit.config import Config
from gankit.errors import GankitError
from gankit.recipes.adagan import AdaGanRecipe
from gankit.recipes.autoencoder import AutoencoderRecipe
from gankit.recipes.base import LoadedRun, Recipe, TrainOptions, run_loop
from gankit.recipes.bigan import BiGanRecipe
from gankit.recipes.gan import GanRecipe
from gankit.recipes.gmm import GmmRecipe
from gankit.recipes.infogan import InfoGanRecipe
from gankit.recipes.pca import PcaRecipe
from gankit.recipes.pix2pix import Pix2pixRecipe
from gankit.recipes.pixelcnn import PixelCnnRecipe
from gankit.recipes.rbm import RbmRecipe
from gankit.recipes.semisupervised import SemiSupervisedRecipe
from gankit.recipes.vae import VaeRecipe
from gankit.train.schedules import SCHEDULES

RECIPES: dict[str, Recipe] = {"gan": GanRecipe(), "adagan": AdaGanRecipe(), "vae": VaeRecipe()}
RECIPES["infogan"] = InfoGanRecipe()
RECIPES["pix2pix"] = Pix2pixRecipe()
RECIPES["semi-supervised"] = SemiSupervisedRecipe()
RECIPES["pca"] = PcaRecipe()
RECIPES["gmm"] = GmmRecipe()
RECIPES["autoencoder"] = AutoencoderRecipe()
RECIPES["bigan"] = BiGanRecipe()
RECIPES["pixelcnn"] = PixelCnnRecipe()
RECIPES["rbm"] = RbmRecipe()


def register_recipe(name: str, recipe: Recipe) -> None:
    """Add a model family's recipe; a name can be registered once."""
    if name in RECIPES:
        raise GankitError(f"a recipe named '{name}' is already registered")
    RECIPES[name] = recipe


def recipe_name(config: Config) -> str:
    """The registry key of ``config``'s family (see the module docstring)."""
    if config.model.family == "gan" and config.game.boost_rounds > 0:
        return "adagan"
    return config.model.family


def recipe_for(config: Config) -> Recipe:
    """The recipe that trains ``config``; `GankitError` naming ``model.family`` otherwise."""
    name = recipe_name(config)
    if name not in RECIPES:
        known = ", ".join(sorted(RECIPES))
        raise GankitError(f"model.family: no recipe named '{name}' (known: {known})")
    return RECIPES[name]


def check_config(config: Config) -> Recipe:
    """Every name ``config`` takes from a registry (``model.family``: `RECIPES`;
    ``optim.schedule``: `gankit.train.schedules.SCHEDULES`; the family's own, such as the
    GAN's ``game.loss``) and the family's refusals, each naming its key; returns the recipe."""
    recipe = recipe_for(config)
    config_mod.settle_sections(config)
    if config.optim.schedule not in SCHEDULES:
        known = ", ".join(SCHEDULES)
        raise GankitError(f"optim.schedule: {config.optim.schedule!r} is not one of {known}")
    check_clusters(config)
    recipe.check(config)
    return recipe


def check_clusters(config: Config) -> None:
    """``data.clusters`` (k-means clusters as labels) is what a conditional GAN reads: refused,
    naming the key, for any other family or for a GAN without ``model.conditional``."""
    if not config.data.clusters:
        return
    if recipe_name(config) != "gan" or not config.model.conditional:
        raise GankitError(
            f"data.clusters = {config.data.clusters}: clusters are the labels a conditional GAN "
            "reads (the self-conditioned GAN); set model.family = 'gan' and model.conditional = "
            "true, or leave data.clusters = 0"
        )


def load_run(path: str | Path) -> LoadedRun:
    """Load ``RUN``'s config and newest checkpoint (G's EMA when present) onto the CPU."""
    path = runs.require_run_dir(path)
    config = config_mod.resolve(config_file=path / runs.CONFIG)
    return check_config(config).load(path, config)


__all__ = [
    "RECIPES",
    "LoadedRun",
    "Recipe",
    "TrainOptions",
    "check_config",
    "load_run",
    "recipe_for",
    "register_recipe",
    "run_loop",
]
