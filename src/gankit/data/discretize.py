"""Points of the plane as binary vectors: what lets a model of bits (the RBM) model a 2-D toy.

`PointGrid` cuts a fixed box ``[low_0, high_0] x [low_1, high_1]`` into ``2^bits`` equal bins per
axis. `PointGrid.encode` writes each coordinate's bin index in the reflected binary (Gray) code,
most significant bit first, so a point is ``2 * bits`` bits (coordinate 0's, then coordinate
1's) and neighbouring bins differ in exactly one bit: nearby points have nearby codes, which a
model of bits with pairwise interactions can represent smoothly (plain binary puts the bins
either side of each half-way mark, e.g. 0111 | 1000, at the largest Hamming distance).
`PointGrid.decode` reads the bins back and draws a point uniformly inside each one, so a model of
the bits becomes a continuous density, piecewise constant on the cells:
``log p(x) = log P(cell of x) - log(cell area)`` inside the box and 0 outside it.

`grid_for` derives the box from a toy distribution alone (its mode centres padded by `PAD_STDS`
mode standard deviations), so a reloaded run rebuilds the same grid without any data.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gankit.errors import GankitError

#: the mode standard deviations that pad the box beyond the outermost centres: a point of a
#: Gaussian mode falls outside it with probability about 2e-9 per coordinate
PAD_STDS = 6.0
#: the most bits per coordinate (2^16 bins per axis: the bin indices stay exact in float32)
MAX_BITS = 16


def gray_code(index: Tensor) -> Tensor:
    """The reflected binary code of non-negative integers: ``i ^ (i >> 1)`` (same shape, int64)."""
    index = index.long()
    return index ^ (index >> 1)


def gray_decode(code: Tensor, bits: int) -> Tensor:
    """The integers whose `gray_code` is ``code`` (``bits``-bit codes; same shape, int64): the
    prefix XOR of the code's bits, ``i = g ^ (g >> 1) ^ (g >> 2) ^ ...``."""
    index = code.long().clone()
    shift = 1
    while shift < bits:
        index ^= index >> shift
        shift *= 2
    return index


class PointGrid:
    """``2^bits`` bins per axis over the box ``[low, high]`` (each ``(2,)``: per axis); see the
    module docstring. ``visible`` = ``2 * bits`` binary units a point is written in."""

    def __init__(self, low, high, bits: int):
        self.low = torch.as_tensor(low, dtype=torch.float64).reshape(2)
        self.high = torch.as_tensor(high, dtype=torch.float64).reshape(2)
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
            raise GankitError(
                f"bits per coordinate must be an integer in [1, {MAX_BITS}]: {bits!r}"
            )
        if not bool(torch.isfinite(self.low).all() and torch.isfinite(self.high).all()):
            raise GankitError(
                f"the box must be finite: low {self.low.tolist()}, high {self.high.tolist()}"
            )
        if not bool((self.high > self.low).all()):
            raise GankitError(
                f"the box is empty: low {self.low.tolist()}, high {self.high.tolist()}"
            )
        self.bits = int(bits)
        self.bins = 2**self.bits
        self.visible = 2 * self.bits
        self.width = (self.high - self.low) / self.bins  # (2,) a bin's side per axis
        #: the log of one cell's area, what turns a cell's log-probability into a log-density
        self.log_cell_area = float(torch.log(self.width).sum())
        self._shifts = torch.arange(self.bits - 1, -1, -1)  # most significant bit first

    def bin_index(self, points: Tensor) -> Tensor:
        """``(n, 2)`` points -> ``(n, 2)`` int64 bin indices in [0, 2^bits), points outside the
        box clamped to the edge bins."""
        x = points.detach().double().cpu().reshape(-1, 2)
        index = torch.floor((x - self.low) / self.width).long()
        return index.clamp(0, self.bins - 1)

    def inside(self, points: Tensor) -> Tensor:
        """``(n,)`` bool: the point lies in the (closed) box."""
        x = points.detach().double().cpu().reshape(-1, 2)
        return ((x >= self.low) & (x <= self.high)).all(1)

    def index_bits(self, index: Tensor) -> Tensor:
        """``(n, 2)`` bin indices -> ``(n, 2 * bits)`` float32 Gray-code bits."""
        code = gray_code(index)
        bits = (code.unsqueeze(-1) >> self._shifts) & 1  # (n, 2, bits)
        return bits.reshape(index.shape[0], self.visible).float()

    def bits_index(self, bits: Tensor) -> Tensor:
        """``(n, 2 * bits)`` bits (values > 1/2 read as 1) -> ``(n, 2)`` int64 bin indices."""
        b = (bits.detach().cpu() > 0.5).long().reshape(-1, 2, self.bits)
        code = (b << self._shifts).sum(-1)
        return gray_decode(code, self.bits)

    def encode(self, points: Tensor) -> Tensor:
        """``(n, 2)`` points -> ``(n, 2 * bits)`` float32 bits in {0, 1} (CPU): each
        coordinate's bin in Gray code, outside points clamped to the edge bins."""
        return self.index_bits(self.bin_index(points))

    def decode(self, bits: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``(n, 2 * bits)`` bits -> ``(n, 2)`` float32 CPU points: each drawn uniformly inside
        its cell (from ``generator``, where it lives)."""
        index = self.bits_index(bits)
        device = generator.device if generator is not None else torch.device("cpu")
        u = torch.rand(index.shape, generator=generator, device=device, dtype=torch.float64)
        return (self.low + (index + u.cpu()) * self.width).float()

    def cell_centres(self, index: Tensor) -> Tensor:
        """``(n, 2)`` bin indices -> ``(n, 2)`` float64 centres of their cells."""
        return self.low + (index.double() + 0.5) * self.width

    def describe(self) -> dict:
        """The grid as plain numbers (what a run's files can record)."""
        return {
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "bits": self.bits,
            "cell_area": math.exp(self.log_cell_area),
        }


def toy_box(distribution, pad_stds: float = PAD_STDS) -> tuple[list[float], list[float]]:
    """``(low, high)`` per axis of a 2-D toy of modes: its centres' range padded by ``pad_stds``
    component standard deviations. `GankitError` for a toy that is not a 2-D mixture."""
    bounds = getattr(distribution, "bounds", None)
    if getattr(distribution, "dim", None) != 2 or bounds is None:
        name = getattr(distribution, "name", type(distribution).__name__)
        raise GankitError(
            f"data.name = {name!r}: a grid of bits covers 2-D toy mixtures (ring-8, grid-25, "
            "spiral, swiss-roll, mixture-2d) only"
        )
    (lo0, hi0), (lo1, hi1) = bounds(pad_stds)
    return [lo0, lo1], [hi0, hi1]


def grid_for(distribution, bits: int) -> PointGrid:
    """The `PointGrid` of a 2-D toy with ``bits`` bits per coordinate (box: `toy_box`)."""
    low, high = toy_box(distribution)
    return PointGrid(low, high, bits)


__all__ = ["MAX_BITS", "PAD_STDS", "PointGrid", "gray_code", "gray_decode", "grid_for", "toy_box"]
