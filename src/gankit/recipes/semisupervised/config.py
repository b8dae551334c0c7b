"""The semi-supervised GAN's own config section, ``[semi]``: valid only with
``model.family = "semi-supervised"``."""

from __future__ import annotations

from dataclasses import dataclass, field

from gankit.config import MAX_COUNT, number, register_section

#: the largest loss weight of ``[semi]``
MAX_WEIGHT = 1e4


@dataclass
class SemiConfig:
    labels_per_class: int = number(
        10,
        "labelled training images per class, drawn per class from the training split by "
        "train.seed; the rest of the split is used unlabelled",
        1,
        MAX_COUNT,
    )
    labelled_batch_size: int = number(
        0,
        "labelled images in each of D's minibatches (drawn from the labelled ones as "
        "semi.labelled_replacement says, beside train.batch_size unlabelled and as many "
        "generated); 0: train.batch_size",
        0,
        MAX_COUNT,
    )
    labelled_replacement: bool = field(
        default=True,
        metadata={
            "doc": "true: each labelled minibatch is drawn with replacement; false: without "
            "(random permutations of the labelled images laid end to end, so a minibatch of "
            "as many as there are labelled images holds each once, as Salimans et al.'s code "
            "puts its 100 labelled MNIST digits in every minibatch)"
        },
    )
    supervised_weight: float = number(
        1.0, "weight of D's cross-entropy on the labelled images", 0.0, MAX_WEIGHT, lo_open=True
    )
    unsupervised_weight: float = number(
        1.0,
        "weight of D's real-versus-generated term -log D(x) - log(1 - D(G(z)))",
        0.0,
        MAX_WEIGHT,
    )
    entropy_weight: float = number(
        0.0,
        "weight of the mean entropy of D's class posterior on the unlabelled images "
        "(entropy minimisation, Grandvalet & Bengio 2005, added to this objective by Dai et al. "
        "2017); 0: off, Salimans et al.'s objective. Ignored by the baseline, which reads no "
        "unlabelled image",
        0.0,
        MAX_WEIGHT,
    )
    manifold_weight: float = number(
        0.0,
        "weight of the manifold regulariser on D (Lecouat et al. 2018): the mean squared "
        "distance between D's class logits on G(z) and on G(z + manifold_epsilon * r), r a "
        "random unit direction of z, so that D's classes change slowly along G's manifold; "
        "0: off, Salimans et al.'s objective. Ignored by the baseline, which has no G",
        0.0,
        MAX_WEIGHT,
    )
    manifold_epsilon: float = number(
        1.0,
        "length of the step along a random unit direction of G's noise z at which "
        "semi.manifold_weight compares D's logits (in the units of z)",
        0.0,
        100.0,
        lo_open=True,
    )
    adversarial: bool = field(
        default=True,
        metadata={
            "doc": "true: the semi-supervised GAN (Salimans et al. 2016); false: the supervised "
            "baseline, the same D trained on the labelled images alone for the same steps (no "
            "G: its keys are not read, and the evaluation is D's held-out accuracy alone)"
        },
    )
    input_noise: float = number(
        0.0,
        "std of Gaussian noise added to every image D reads in training (pixels in [-1, 1]; "
        "Salimans et al. use 0.3 on MNIST); 0: off",
        0.0,
        10.0,
    )

    hidden_noise: float = number(
        0.0,
        "std of Gaussian noise added after each of D's hidden activations in training "
        "(Salimans et al. use 0.5 on MNIST); 0: off",
        0.0,
        10.0,
    )
    classifier_ema: float = number(
        0.0,
        "EMA decay of D's weights (Polyak averaging, bias-corrected: an average of D's "
        "iterates, never of its init); the averaged D is the one that classifies (held-out "
        "accuracy, gankit classify). Salimans et al.'s CIFAR-10 code classifies with such an "
        "average (decay 0.9999). 0: off, the last iterate classifies",
        lo=0.0,
        hi=0.99999,
    )


register_section("semi", SemiConfig, family="semi-supervised")
