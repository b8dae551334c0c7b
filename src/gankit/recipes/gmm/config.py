"""The Gaussian mixture's own config section, ``[gmm]``: valid only with
``model.family = "gmm"``."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.config import MAX_WIDTH, choice, number, register_section
from gankit.nets.gmm import COVARIANCES


@dataclass
class GmmConfig:
    components: int = number(10, "mixture components K", 1, MAX_WIDTH)
    covariance: str = choice(
        "full",
        COVARIANCES,
        "each component's covariance: full (D x D) or diag (D variances; MNIST's 784 "
        "dimensions make full ones slow and large)",
    )
    reg_covar: float = number(
        1e-6,
        "added to every covariance's diagonal (scikit-learn's reg_covar): the floor of a "
        "variance, which constant pixels would otherwise drive to 0 (the VAE's decoder has the "
        "same floor, 1e-6, on its variance)",
        0.0,
        1.0,
        lo_open=True,
    )
    toy_points: int = number(
        10_000,
        "points: the fit set drawn once from a toy without data.train_size (seeded by "
        "train.seed), and the toy's held-out points of log_likelihood",
        2,
        10**7,
    )


register_section("gmm", GmmConfig, family="gmm")
