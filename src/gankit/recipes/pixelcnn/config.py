"""PixelCNN's own config section, ``[pixelcnn]``: valid only with ``model.family = "pixelcnn"``."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.config import MAX_DEPTH, MAX_WIDTH, choice, number, register_section
from gankit.data.binarize import BINARIZATIONS

#: what `gankit sample` and the evaluator are given of a pixel-by-pixel draw
SAMPLE_OUTPUTS = ("bits", "means")
#: the largest first kernel (a masked 7x7 is the paper's)
MAX_KERNEL = 15


@dataclass
class PixelCnnConfig:
    channels: int = number(
        32, "feature maps of the residual stream (each block's 3x3 works on half)", 1, MAX_WIDTH
    )
    layers: int = number(
        4, "residual blocks of masked 3x3 convolutions (mask B) after the first layer", 0, MAX_DEPTH
    )
    kernel: int = number(
        7,
        "side of the first, mask-A convolution (odd: van den Oord et al. 2016 use 7)",
        1,
        MAX_KERNEL,
    )
    binarize: str = choice(
        "stochastic",
        BINARIZATIONS,
        "how images become bits: stochastic (each pixel on with probability its intensity, drawn "
        "afresh for every minibatch; the held-out set binarised once with a fixed seed), the "
        "convention of the binarised-MNIST likelihoods; or threshold (on where > 1/2)",
    )
    lr: float = number(1e-3, "learning rate of the PixelCNN", 0.0, lo_open=True)
    samples: str = choice(
        "bits",
        SAMPLE_OUTPUTS,
        "what a sample is, mapped to [-1, 1]: bits (the {0, 1} draws: the model's samples) or "
        "means (each pixel's probability given the bits drawn before it, a grey image like a "
        "VAE decoder's mean; on digits seed 0 FID 594 against the bits' 204, and 180 for "
        "binarised real images)",
    )


register_section("pixelcnn", PixelCnnConfig, family="pixelcnn")
