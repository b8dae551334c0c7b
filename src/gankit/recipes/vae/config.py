"""The VAE's own config section, ``[vae]``: valid only with ``model.family = "vae"``."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.config import ACTIVATIONS, MAX_DEPTH, MAX_WIDTH, choice, number, register_section

LIKELIHOODS = ("gaussian", "bernoulli")


# The encoder-decoder nets' keys, a fresh field per call: ``[vae]`` and ``[autoencoder]`` (whose
# nets are the VAE's, `gankit.nets.autoencoder`) declare them alike.
def width_field():
    return number(
        64,
        "hidden units per layer (points) or the first layer's channels (images, doubling "
        "at each halving of the side)",
        1,
        MAX_WIDTH,
    )


def depth_field():
    return number(
        2, "hidden layers (points); images: extra 3x3 convolutions per resolution", 0, MAX_DEPTH
    )


def activation_field():
    return choice("leaky_relu", ACTIVATIONS, "hidden activation of both nets")


def lr_field():
    return number(1e-3, "learning rate of the encoder and decoder together", 0.0, lo_open=True)


@dataclass
class VaeConfig:
    latent_dim: int = number(8, "dimension of the latent code z (prior N(0, I))", 1, MAX_WIDTH)
    width: int = width_field()
    depth: int = depth_field()
    activation: str = activation_field()
    likelihood: str = choice(
        "gaussian",
        LIKELIHOODS,
        "the decoder p(x|z): gaussian (a learned scale per dimension; points and images) or "
        "bernoulli (images, pixels read as probabilities in [0, 1])",
    )
    lr: float = lr_field()
    kl_weight: float = number(
        1.0,
        "weight of KL(q(z|x) || p(z)) in the loss (1: the ELBO of Kingma & Welling 2014; "
        "other values train a beta-VAE, whose loss is no longer a bound)",
        0.0,
        1e6,
    )
    kl_warmup: int = number(
        0,
        "steps over which the KL weight rises linearly from 0 to vae.kl_weight (Bowman et al. "
        "2016; Sonderby et al. 2016: keeps the posterior from collapsing onto the prior early; "
        "0 = off); the loss is a bound only after it",
        0,
        10**12,
    )
    iwae_samples: int = number(
        0,
        "k of the importance-weighted bound (Burda et al. 2016) in the final metrics: "
        "iwae_k1 and iwae_kK, nats per held-out example, the VAE's test log-likelihood "
        "estimate (0 = off)",
        0,
        100_000,
    )
    iwae_examples: int = number(
        1000,
        "held-out examples the importance-weighted bound reads (the first ones of the held-out "
        "split; a toy's fixed held-out draws)",
        1,
        10**7,
    )


register_section("vae", VaeConfig, family="vae")
