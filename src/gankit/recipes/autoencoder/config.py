"""The autoencoder's own config section, ``[autoencoder]``: valid only with
``model.family = "autoencoder"``. Its nets are the VAE's (`gankit.nets.autoencoder`), so its
keys mirror ``[vae]``'s."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.config import ACTIVATIONS, MAX_DEPTH, MAX_WIDTH, choice, number, register_section


@dataclass
class AutoencoderConfig:
    latent_dim: int = number(16, "dimension of the code", 1, MAX_WIDTH)
    width: int = number(
        64,
        "hidden units per layer (points) or the first layer's channels (images, doubling "
        "at each halving of the side)",
        1,
        MAX_WIDTH,
    )
    depth: int = number(
        2, "hidden layers (points); images: extra 3x3 convolutions per resolution", 0, MAX_DEPTH
    )
    activation: str = choice("leaky_relu", ACTIVATIONS, "hidden activation of both nets")
    lr: float = number(1e-3, "learning rate of the encoder and decoder together", 0.0, lo_open=True)
    toy_points: int = number(
        10_000,
        "points: the set whose codes the code Gaussian is fitted to, for a toy without "
        "data.train_size (drawn once, seeded by train.seed)",
        2,
        10**7,
    )


register_section("autoencoder", AutoencoderConfig, family="autoencoder")
