"""The GAN family: its `Trainable` (Algorithm 1, `gankit.recipes.gan.step`) and its recipe
(building, training, loading and sampling the players, `gankit.recipes.gan.recipe`)."""

from gankit.recipes.gan.recipe import (
    GAN_FROZEN_ON_RESUME,
    GanRecipe,
    build_checked_models,
    build_models_for,
    check_gan_config,
    class_prior,
    gan_loop,
    load_players,
    run_loop,
)
from gankit.recipes.gan.step import GanTrainable, eval_state

__all__ = [
    "GAN_FROZEN_ON_RESUME",
    "check_gan_config",
    "GanRecipe",
    "GanTrainable",
    "build_checked_models",
    "build_models_for",
    "class_prior",
    "eval_state",
    "gan_loop",
    "load_players",
    "run_loop",
]
