"""pix2pix's conditional PatchGAN discriminator (Isola et al. 2017, sec. 3.2.2): D reads the
input and an output (real target or translation) concatenated on channels and scores each
patch of its receptive field, ``D(source, image) -> (n, 1, h', w')`` raw scores; the loss
averages them.

Layers: ``downs`` 3x3 stride-2 convolutions (``width`` channels, doubling), a 3x3 stride-1
convolution, a 1x1 convolution to one score, leaky ReLU 0.2 between them, no normalisation.
The receptive field is ``2 ** (downs + 2) - 1`` pixels a side (`receptive_field`): 7 for
``downs = 1`` (8x8 digits: 4x4 patches scored), 15 for 2 (28x28 MNIST: 7x7), 31 for 3; the
paper's 70x70 D on 256x256 images is the same design with 4x4 kernels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.nets.dcgan import init_dcgan_weights


def receptive_field(layers: list[tuple[int, int, int]]) -> int:
    """The side, in input pixels, that one output of a stack of convolutions reads, from its
    ``(kernel, stride, dilation)`` layers in order: ``1 + sum_l (k_l - 1) d_l prod_{j<l} s_j``."""
    field, jump = 1, 1
    for kernel, stride, dilation in layers:
        field += (kernel - 1) * dilation * jump
        jump *= stride
    return field


def conv_layers(module: nn.Module) -> list[tuple[int, int, int]]:
    """``(kernel, stride, dilation)`` of ``module``'s square 2-D convolutions, in order."""
    return [
        (m.kernel_size[0], m.stride[0], m.dilation[0])
        for m in module.modules()
        if isinstance(m, nn.Conv2d)
    ]


class PatchDiscriminator(nn.Module):
    """The conditional PatchGAN for ``channels``-channel images (see the module docstring)."""

    pointwise = False  # it reads (input, output) pairs: no read-out on images alone

    def __init__(self, channels: int, width: int = 32, downs: int = 1):
        super().__init__()
        layers: list[nn.Module] = []
        c_in, c_out = 2 * channels, width
        for _ in range(downs):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.LeakyReLU(0.2)]
            c_in, c_out = c_out, c_out * 2
        layers += [nn.Conv2d(c_in, c_out, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(c_out, 1, 1)]
        self.net = nn.Sequential(*layers)
        self.downs = downs
        init_dcgan_weights(self)

    @property
    def receptive_field(self) -> int:
        """The side of the patch each score reads (`receptive_field` of its layers)."""
        return receptive_field(conv_layers(self))

    def forward(self, source: Tensor, image: Tensor) -> Tensor:
        """Scores ``(n, 1, h', w')`` of ``image`` as the translation of ``source``, both
        ``(n, C, H, W)``, read concatenated on channels."""
        return self.net(torch.cat([source, image], 1))
