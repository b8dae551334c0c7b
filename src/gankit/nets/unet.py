"""pix2pix's generator: a U-Net (Ronneberger et al. 2015) whose noise is dropout (Isola et al.
2017, sec. 3.1 and 3.2.1), kept on at test time as in the paper, so that two translations of
the same input differ.

``G(source, generator) -> (n, C, H, W)`` in [-1, 1] (tanh) from an input of the same shape:

* a 3x3 convolution at full size (``width`` channels), then one 4x4 stride-2 convolution (batch
  norm, leaky ReLU 0.2) per halving, doubling the channels (at most ``max_width``) while both
  sides are even and at least 4: 8x8 -> 4 -> 2, 28x28 -> 14 -> 7, 32x32 -> ... -> 2;
* a 3x3 bottleneck at the smallest size;
* the decoder mirrors the encoder: each level concatenates the encoder's features of its size
  (the skip connection, ``skip_pairs``) with the level below and upsamples by a 4x4 stride-2
  transposed convolution (batch norm, ReLU); the last 3x3 convolution reads the full-size skip.

Dropout (rate ``dropout``, 0.5 in the paper) follows the bottleneck and every upsampling: its
masks come from the ``generator`` passed (the run's noise stream in training, a seeded stream
when sampling), in train and eval mode alike; ``dropout = 0`` makes G deterministic.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nets.dcgan import init_dcgan_weights


def halvings(height: int, width: int) -> int:
    """How many times the U-Net halves an ``height x width`` image: while both sides are even
    and at least 4."""
    count = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) >= 4:
        height, width, count = height // 2, width // 2, count + 1
    return count


def kept_dropout(h: Tensor, rate: float, generator: torch.Generator | None) -> Tensor:
    """Inverted dropout of ``h`` at ``rate`` whatever the module's mode: each entry kept with
    probability ``1 - rate`` (mask drawn from ``generator``) and scaled by ``1 / (1 - rate)``."""
    if rate <= 0.0:
        return h
    device = generator.device if generator is not None else h.device
    draw = torch.rand(h.shape, generator=generator, device=device).to(h.device)
    return h * (draw >= rate).to(h.dtype) / (1.0 - rate)


class UNetGenerator(nn.Module):
    """pix2pix's U-Net for ``shape = (C, H, W)`` (see the module docstring)."""

    def __init__(
        self,
        shape: tuple[int, int, int],
        width: int = 32,
        dropout: float = 0.5,
        max_width: int = 256,
    ):
        super().__init__()
        c, h, w = (int(v) for v in shape)
        levels = halvings(h, w)
        if levels < 1:
            raise GankitError(
                f"pix2pix: a U-Net halves its input at least once; {h}x{w} images have an odd "
                "or too small side"
            )
        if not 0.0 <= dropout < 1.0:
            raise GankitError(f"pix2pix.dropout: must lie in [0, 1), got {dropout}")
        self.shape, self.dropout, self.levels = (c, h, w), float(dropout), levels
        channels = [width]
        for _ in range(levels):
            channels.append(min(channels[-1] * 2, max(max_width, width)))
        self.channels = channels
        self.stem = nn.Sequential(nn.Conv2d(c, width, 3, 1, 1), nn.LeakyReLU(0.2))
        self.downs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(channels[i], channels[i + 1], 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels[i + 1]),
                nn.LeakyReLU(0.2),
            )
            for i in range(levels)
        )
        bottom = channels[-1]
        self.bottleneck = nn.Sequential(
            nn.Conv2d(bottom, bottom, 3, 1, 1, bias=False), nn.BatchNorm2d(bottom), nn.ReLU()
        )
        # up i takes [decoded at level i+1, skip at level i+1] to level i's size and channels
        self.ups = nn.ModuleList(
            nn.Sequential(
                nn.ConvTranspose2d(2 * channels[i + 1], channels[i], 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels[i]),
                nn.ReLU(),
            )
            for i in reversed(range(levels))
        )
        self.head = nn.Sequential(nn.Conv2d(2 * width, c, 3, 1, 1), nn.Tanh())
        init_dcgan_weights(self)

    def skip_pairs(
        self, source: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
        """``(G(source), [(skip, decoded), ...])``: each encoder feature map beside the decoder
        map it is concatenated with, deepest first (their sizes must agree)."""
        skips = [self.stem(source)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        h = kept_dropout(self.bottleneck(skips[-1]), self.dropout, generator)
        pairs = []
        for up, skip in zip(self.ups, reversed(skips[1:]), strict=True):
            pairs.append((skip, h))
            h = kept_dropout(up(torch.cat([h, skip], 1)), self.dropout, generator)
        pairs.append((skips[0], h))
        return self.head(torch.cat([h, skips[0]], 1)), pairs

    def forward(self, source: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return self.skip_pairs(source, generator)[0]
