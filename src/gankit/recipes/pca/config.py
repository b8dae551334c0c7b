"""Probabilistic PCA's own config section, ``[pca]``: valid only with ``model.family = "pca"``."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.config import MAX_WIDTH, number, register_section


@dataclass
class PcaConfig:
    components: int = number(
        8,
        "latent dimensions q of probabilistic PCA (Tipping & Bishop 1999); below the data's "
        "dimension (points: dim; images: C x H x W)",
        1,
        MAX_WIDTH,
    )
    toy_points: int = number(
        10_000,
        "points: the fit set drawn once from a toy without data.train_size (seeded by "
        "train.seed), and the toy's held-out points of log_likelihood",
        2,
        10**7,
    )


register_section("pca", PcaConfig, family="pca")
