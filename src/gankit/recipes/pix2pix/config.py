"""pix2pix's own config section, ``[pix2pix]``: valid only with ``model.family = "pix2pix"``."""

from __future__ import annotations

from dataclasses import dataclass, field

from gankit.config import MAX_WIDTH, choice, number, register_section

#: the paired tasks built from a labelled image dataset (`gankit.data.paired.TASKS`)
PIX2PIX_TASKS = ("lower-half", "edges")


@dataclass
class Pix2pixConfig:
    task: str = choice(
        "lower-half",
        PIX2PIX_TASKS,
        "the paired translation built from the data (gankit.data.paired): lower-half (input: "
        "the image with its lower half blanked to the background; target: the image) or edges "
        "(input: its Sobel gradient magnitude over each image's maximum; target: the image)",
    )
    l1_weight: float = number(
        100.0, "lambda: weight of the L1 term in G's loss (Isola et al. 2017: 100)", 0.0, 1e6
    )
    adversarial: bool = field(
        default=True,
        metadata={
            "doc": "L1 + cGAN with the PatchGAN D (false: the paper's L1-only ablation, the "
            "same U-Net with no D, trained on pix2pix.l1_weight x L1 alone)"
        },
    )
    g_width: int = number(
        32, "channels of the U-Net's first layer (doubling per halving)", 1, MAX_WIDTH
    )
    d_width: int = number(
        32, "channels of the PatchGAN's first layer (doubling per halving)", 1, MAX_WIDTH
    )
    d_downs: int = number(
        1,
        "stride-2 convolutions of the PatchGAN: its patches are 2^(d_downs + 2) - 1 pixels a side "
        "(1: 7, digits; 2: 15, MNIST)",
        0,
        8,
    )
    dropout: float = number(
        0.5,
        "dropout rate of the U-Net's decoder, its noise, on at test time too (paper: 0.5)",
        0.0,
        0.95,
    )


register_section("pix2pix", Pix2pixConfig, family="pix2pix")
