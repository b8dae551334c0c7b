"""The GAN family: its `Trainable` (Algorithm 1, `gankit.recipes.gan.step`) and its recipe
(building, training, loading and sampling the players, `gankit.recipes.gan.recipe`)."""

from gankit.recipes.gan.recipe import (
    GanRecipe,
    build_checked_models,
    build_models_for,
    class_prior,
    eval_state,
    gan_loop,
    load_players,
    make_loop,
    run_loop,
)
from gankit.recipes.gan.step import GanTrainable

__all__ = [
    "GanRecipe",
    "GanTrainable",
    "build_checked_models",
    "build_models_for",
    "class_prior",
    "eval_state",
    "gan_loop",
    "load_players",
    "make_loop",
    "run_loop",
]
