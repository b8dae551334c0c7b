"""The RBM's own config section, ``[rbm]``: valid only with ``model.family = "rbm"``."""

from __future__ import annotations

from dataclasses import dataclass, field

from gankit.config import MAX_COUNT, MAX_STEPS, MAX_WIDTH, choice, number, register_section
from gankit.data.binarize import BINARIZATIONS

#: the most bits per coordinate: 2 * 12 = 24 visible units, the most whose 2^V states
#: `gankit.game.rbm.exact_log_partition` sums
MAX_GRID_BITS = 12


@dataclass
class RbmConfig:
    hidden: int = number(
        100,
        "hidden units H (scikit-learn's n_components; Salakhutdinov & Murray: 500)",
        1,
        MAX_WIDTH,
    )
    lr: float = number(
        0.06,
        "learning rate of the CD gradient (a mean over the minibatch, as scikit-learn's "
        "learning_rate; optim.name/momentum say how it is stepped)",
        0.0,
        lo_open=True,
    )
    cd_k: int = number(1, "Gibbs sweeps of each CD or persistent-CD chain per update", 1, MAX_COUNT)
    persistent: bool = field(
        default=True,
        metadata={
            "doc": "persistent CD (Tieleman 2008; scikit-learn's BernoulliRBM): train.batch_size "
            "chains carried from update to update (saved in every checkpoint); false: CD-k, "
            "each chain started at its data (Hinton 2002)"
        },
    )
    binarize: str = choice(
        "stochastic",
        BINARIZATIONS,
        "the visible bits of an image (gankit.data.binarize): stochastic (each pixel on with "
        "probability its intensity, drawn afresh for every minibatch; the held-out split's "
        "bits drawn once with a fixed seed, as Salakhutdinov & Murray 2008) or threshold "
        "(on where the intensity is > 1/2)",
    )
    sample_steps: int = number(
        1000,
        "Gibbs sweeps of each sampling chain, started from uniform random bits; samples are "
        "the last sweep's Bernoulli means p(v|h)",
        1,
        MAX_STEPS,
    )
    ais_betas: int = number(
        14500,
        "intermediate temperatures of the final AIS estimate of log Z, spaced as Salakhutdinov "
        "& Murray 2008 (their 14,500: 500 in [0, 0.5), 4,000 in [0.5, 0.9), 10,000 in [0.9, 1])",
        3,
        10**7,
    )
    ais_chains: int = number(
        100, "independent AIS runs (importance weights) of the estimate", 2, 10**6
    )

    grid_bits: int = number(
        6,
        "2-D toys only: bits per coordinate of the grid the plane is cut into "
        "(gankit.data.discretize: 2^grid_bits Gray-coded bins per axis over the toy's modes "
        "padded by 6 mode stds; 2 * grid_bits visible units, whose 2^V states make log Z exact)",
        1,
        MAX_GRID_BITS,
    )


register_section("rbm", RbmConfig, family="rbm")
