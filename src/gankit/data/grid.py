"""Image grids: many ``(N, C, H, W)`` images as one picture, written as a PNG.

Pixels at gankit's edges are uint8 or float in [0, 1] (`gankit.data.checks`); a grid is
``(rows * (H + pad) + pad, cols * (W + pad) + pad, C)`` uint8 on a mid-grey background, each
image scaled up by an integer factor (nearest neighbour: no blur, pixels stay pixels) so that
8x8 digits are visible.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from gankit.data.checks import check_images, images_to_uint8

BACKGROUND = 128


def to_uint8(images) -> np.ndarray:
    """Checked images as uint8 ``(N, C, H, W)``."""
    return images_to_uint8(check_images(images)).numpy()


def scale_for(size: int, target: int = 32) -> int:
    """The integer upscaling that brings a side of ``size`` pixels to at least ``target``."""
    return max(1, math.ceil(target / size))


def make_grid(
    images,
    cols: int | None = None,
    rows: list[list[int]] | None = None,
    pad: int = 2,
    scale: int | None = None,
    background: int = BACKGROUND,
    border: bool = True,
) -> np.ndarray:
    """``(Hg, Wg, C)`` uint8: the images in a grid of ``cols`` columns (default about square,
    never more than there are images), or, with ``rows``, one row per list of image indices (a
    row per class; short rows are padded with ``background``, long ones cut at ``cols``).
    ``pad`` pixels between the images, and around them where ``border``; each image scaled up
    by ``scale`` (default: to about 32 pixels)."""
    x = to_uint8(images)
    n, c, h, w = x.shape
    scale = scale or scale_for(max(h, w))
    if rows is None:
        cols = max(1, min(cols or math.ceil(math.sqrt(n)), n))
        rows = [list(range(i, min(i + cols, n))) for i in range(0, n, cols)]
    cols = cols or max((len(r) for r in rows), default=1)
    hs, ws = h * scale, w * scale
    edge = pad if border else 0
    shape = (len(rows) * (hs + pad) - pad + 2 * edge, cols * (ws + pad) - pad + 2 * edge, c)
    out = np.full(shape, background, dtype=np.uint8)
    for r, row in enumerate(rows):
        for k, i in enumerate(row[:cols]):
            tile = x[i].transpose(1, 2, 0).repeat(scale, 0).repeat(scale, 1)
            top, left = edge + r * (hs + pad), edge + k * (ws + pad)
            out[top : top + hs, left : left + ws] = tile
    return out


def class_rows(classes: np.ndarray, n_classes: int) -> list[list[int]]:
    """Indices grouped by class, one row per class in class order (empty rows kept: a class
    the generator never draws shows as an empty row)."""
    return [list(np.flatnonzero(np.asarray(classes) == k)) for k in range(n_classes)]


def png_bytes(grid: np.ndarray) -> bytes:
    """A ``(H, W, C)`` uint8 array as PNG bytes (grey for one channel)."""
    array = grid[:, :, 0] if grid.shape[2] == 1 else grid
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
