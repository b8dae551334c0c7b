"""InfoGAN's own config section, ``[infogan]``: valid only with ``model.family = "infogan"``."""

from __future__ import annotations

from dataclasses import dataclass, field

from gankit.config import MAX_COUNT, MAX_WIDTH, number, register_section


@dataclass
class InfoGanConfig:
    categories: int = number(
        10, "values of the categorical code c (uniform prior); G reads its one-hot", 2, MAX_COUNT
    )
    continuous: int = number(
        2, "continuous codes c' (each uniform on [-1, 1], as the paper); 0 = none", 0, MAX_WIDTH
    )
    mi_weight: float = number(
        1.0,
        "lambda: weight of the categorical code's cross-entropy under Q in both players' "
        "losses (the mutual-information bound; 1 as Chen et al. 2016 for discrete codes; "
        "0 = a plain GAN whose Q is trained on nothing)",
        0.0,
        1e4,
    )
    continuous_weight: float = number(
        0.1,
        "weight of the continuous codes' Gaussian negative log-likelihood under Q (unit "
        "std): smaller than mi_weight, as the paper advises, so that the squared errors of "
        "the codes do not outweigh the categorical term",
        0.0,
        1e4,
    )
    real_cluster_weight: float = number(
        0.0,
        "weight of Q's clustering term on real images, H(c | x) - H(c) of its categorical "
        "posterior on each real minibatch (regularized information maximisation, Krause et "
        "al. 2010; CatGAN's real-data objective, Springenberg 2016), trained with D; no label "
        "read; 0 = the paper's InfoGAN (1 made MNIST seeds 0 and 4 worse: docs/results.md)",
        0.0,
        1e4,
    )
    noise_scale: float = number(
        1.0,
        "G reads noise_scale * z beside the one-hot code: below 1 the code, not the noise, "
        "sets G's first layer's input at the start (ClusterGAN's narrow noise, Mukherjee et "
        "al. 2019: sigma = 0.1; no better on the digits: docs/results.md)",
        1e-4,
        1e4,
    )
    mi_warmup: int = number(
        0,
        "steps over which the information term's weights ramp linearly from 0 to mi_weight "
        "and continuous_weight, so that G learns the data before the code splits it (0 = the "
        "paper's, full weight from the first step; 1000 was worse on the digits)",
        0,
        10**9,
    )
    q_augment: str = field(
        default="",
        metadata={
            "doc": "DiffAugment policy through which Q reads G's images in the information "
            "term, in both phases (a comma-separated subset of colour, translation, cutout; "
            "'' = the paper's Q, on the images as G made them): the code must survive "
            "nuisance transforms, as Elastic-InfoGAN's (Ojha et al. 2020) invariance asks"
        },
    )
    q_width: int = number(128, "hidden units of Q's head on D's features", 1, MAX_WIDTH)
    eval_per_code: int = number(
        100,
        "images generated per value of the categorical code at each evaluation, classified "
        "in the feature space to match codes to classes (code_class_accuracy)",
        1,
        100_000,
    )


register_section("infogan", InfoGanConfig, family="infogan")
