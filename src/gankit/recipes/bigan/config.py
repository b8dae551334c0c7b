"""BiGAN / ALI's own config section, ``[bigan]``: valid only with ``model.family = "bigan"``."""

from __future__ import annotations

from dataclasses import dataclass, field

from gankit.config import MAX_WIDTH, number, register_section


@dataclass
class BiGanConfig:
    stochastic_encoder: bool = field(
        default=False,
        metadata={
            "doc": "ALI's encoder (Dumoulin et al. 2017): E gives a Gaussian's mean and "
            "log-variance and D reads one reparameterised draw; false: BiGAN's deterministic "
            "E(x) (Donahue et al. 2017). Codes written by gankit encode are the mean"
        },
    )
    joint_width: int = number(
        256,
        "images: hidden units of the joint D's code layer and of the layer joining it to the image "
        "features (the points' joint D is an MLP of model.d_width on [x, z])",
        1,
        MAX_WIDTH,
    )
    dropout: float = number(
        0.0,
        "dropout rate of the joint D's hidden layers in training (ALI: 0.2; masks from the "
        "run's game stream)",
        0.0,
        0.95,
    )
    cycle_weight: float = number(
        0.0,
        "weight of ALICE's explicit cycle consistency (Li et al. 2017, sec. 3: the conditional "
        "entropy H(x|z) bounded by a reconstruction loss) in G and E's loss: lambda times the "
        "mean squared error of G(E(x)) against x per pixel (per coordinate for points); 0: "
        "plain BiGAN / ALI, whose reconstructions need not resemble their inputs",
        0.0,
        1e6,
    )
    probe_train: int = number(
        5000,
        "training images (the first ones of a fixed shuffle) the linear probes are fitted "
        "on, on E(x) and on raw pixels; their held-out accuracy is measured on the held-out "
        "split",
        10,
        1_000_000,
    )
    eval_heldout: int = number(
        2000,
        "held-out images (the first ones) each evaluation during training reconstructs and "
        "probes; the final evaluation reads the whole held-out split",
        10,
        1_000_000,
    )


register_section("bigan", BiGanConfig, family="bigan")
