"""PixelCNN for single-channel binary images (van den Oord et al. 2016, "Pixel Recurrent Neural
Networks", sec. 3.4): masked convolutions so that the output at pixel i reads only the pixels
before i in raster order (row by row, left to right).

- The first layer is a ``kernel`` x ``kernel`` convolution with mask A: the centre pixel is
  hidden, so no output sees its own input pixel.
- Then ``layers`` residual blocks (the paper's fig. 5: ReLU, 1x1 to half the channels, ReLU,
  3x3 with mask B -- the centre is visible, since after mask A the features at i hold only
  pixels before i -- ReLU, 1x1 back, plus the input).
- Then ReLU, 1x1, ReLU, 1x1 to one Bernoulli logit per pixel.

One colour channel only: the masks between R, G and B channels (the paper's sec. 3.4 channel
masks) are not built, and colour data is refused by the recipe.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: mask types: A hides the centre pixel (the first layer), B shows it (every later layer)
MASK_TYPES = ("A", "B")


def causal_mask(kernel: int, mask_type: str) -> Tensor:
    """``(kernel, kernel)`` float mask of a raster-order causal convolution: 1 on every row
    above the centre and left of the centre on its row; the centre 1 for type B, 0 for A."""
    if mask_type not in MASK_TYPES:
        raise ValueError(f"mask type must be one of {MASK_TYPES}, got {mask_type!r}")
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"a masked convolution's kernel must be odd and >= 1, got {kernel}")
    c = kernel // 2
    mask = torch.zeros(kernel, kernel)
    mask[:c, :] = 1.0
    mask[c, :c] = 1.0
    if mask_type == "B":
        mask[c, c] = 1.0
    return mask


class MaskedConv2d(nn.Conv2d):
    """A 'same'-padded convolution whose weights are multiplied by `causal_mask` at every
    forward (the masked weights never act, and their gradients are zero)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, mask_type: str):
        super().__init__(in_channels, out_channels, kernel, padding=kernel // 2)
        self.mask_type = mask_type
        self.register_buffer("mask", causal_mask(kernel, mask_type)[None, None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class ResidualMaskedBlock(nn.Module):
    """``x + 1x1(ReLU(3x3_B(ReLU(1x1(ReLU(x))))))`` at ``channels`` (half inside): the paper's
    residual block, causal because only its 3x3 mixes positions, through mask B."""

    def __init__(self, channels: int):
        super().__init__()
        half = max(1, channels // 2)
        self.body = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, half, 1),
            nn.ReLU(),
            MaskedConv2d(half, half, 3, "B"),
            nn.ReLU(),
            nn.Conv2d(half, channels, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class PixelCNN(nn.Module):
    """``forward(bits)``: ``(n, 1, H, W)`` {0, 1} images -> ``(n, 1, H, W)`` logits, the one at
    pixel i a function of the pixels before i in raster order only (see the module docstring).

    ``reach``: how many rows above and columns either side of its own an output reads at most
    (the first kernel's half-side plus one per residual block): the window sampling crops
    each pass to."""

    def __init__(self, shape, channels: int = 32, layers: int = 4, kernel: int = 7):
        super().__init__()
        shape = tuple(int(v) for v in shape)
        if len(shape) != 3 or shape[0] != 1:
            raise ValueError(f"PixelCNN models single-channel images (1, H, W), got {shape}")
        self.shape = shape
        self.channels, self.layers, self.kernel = channels, layers, kernel
        self.first = MaskedConv2d(1, channels, kernel, "A")
        self.blocks = nn.Sequential(*[ResidualMaskedBlock(channels) for _ in range(layers)])
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, 1),
            nn.ReLU(),
            nn.Conv2d(channels, 1, 1),
        )
        self.reach = kernel // 2 + layers

    def forward(self, bits: Tensor) -> Tensor:
        return self.head(self.blocks(self.first(bits)))


def build_pixelcnn(shape, channels: int, layers: int, kernel: int) -> PixelCNN:
    """The PixelCNN of ``[pixelcnn]`` for images of ``shape`` ``(1, H, W)``."""
    return PixelCNN(shape, channels=channels, layers=layers, kernel=kernel)


__all__ = [
    "MASK_TYPES",
    "MaskedConv2d",
    "PixelCNN",
    "ResidualMaskedBlock",
    "build_pixelcnn",
    "causal_mask",
]
