"""The autoencoder's own config section, ``[autoencoder]``: valid only with
``model.family = "autoencoder"``. Its nets are the VAE's (`gankit.nets.autoencoder`), so its
keys mirror ``[vae]``'s."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.config import MAX_WIDTH, number, register_section
from gankit.recipes.vae.config import activation_field, depth_field, lr_field, width_field


@dataclass
class AutoencoderConfig:
    latent_dim: int = number(16, "dimension of the code", 1, MAX_WIDTH)
    width: int = width_field()
    depth: int = depth_field()
    activation: str = activation_field()
    lr: float = lr_field()
    toy_points: int = number(
        10_000,
        "points: the set whose codes the code Gaussian is fitted to, for a toy without "
        "data.train_size (drawn once, seeded by train.seed)",
        2,
        10**7,
    )


register_section("autoencoder", AutoencoderConfig, family="autoencoder")
