"""AdaGAN boosting (Tolstikhin et al. 2017) as a recipe: rounds of GANs on a reweighted pool,
the mixture of their generators as the model. The math is `gankit.game.adagan`."""

from __future__ import annotations

from pathlib import Path

from gankit.config import Config
from gankit.recipes.adagan.driver import train_rounds
from gankit.recipes.adagan.loading import BoostedRun, load_boosted
from gankit.recipes.base import TrainOptions
from gankit.recipes.gan import GAN_FROZEN_ON_RESUME, check_gan_config


class AdaGanRecipe:
    """A boosted GAN: ``game.boost_rounds = T`` rounds, each an ordinary GAN run."""

    name = "adagan"
    #: a GAN's, and the rounds' length: each round's budget is train.steps
    frozen_on_resume = (*GAN_FROZEN_ON_RESUME, "train.steps")

    def check(self, config: Config) -> None:
        check_gan_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        train_rounds(config, options)  # finishes the run once every round is done
        return Path(options.out)

    def load(self, path: Path, config: Config) -> BoostedRun:
        return load_boosted(path, config)


__all__ = ["AdaGanRecipe", "BoostedRun"]
