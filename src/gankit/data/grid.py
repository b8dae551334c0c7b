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
from PIL import Image, ImageDraw

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


def sorted_grid(images, classes: np.ndarray | None = None) -> np.ndarray:
    """Every image in an about square grid, filled row by row (only the last row may be
    short), sorted by ``classes`` where given (stable): a collapsed generator fills the grid
    with one class, as it fills its samples, and nothing is left out."""
    x = to_uint8(images)
    order = np.arange(len(x)) if classes is None else np.argsort(classes, kind="stable")
    return make_grid(x[order])


#: the width of a row label, in characters
LABEL_CHARS = 3


def labelled_rows(images, classes: np.ndarray, labels: list[str]) -> np.ndarray:
    """One row per label, holding every image of that class (``classes[i]`` indexes
    ``labels``), each row labelled on its left: a conditional generator's samples by the class
    it was asked for. Rows are as long as the longest; shorter ones end in background."""
    x = to_uint8(images)
    rows = class_rows(classes, len(labels))
    grid = make_grid(x, cols=max(1, max(len(r) for r in rows)), rows=rows)
    n, c, h, w = x.shape
    tile = h * scale_for(max(h, w))
    pad = 2
    margin = 6 * LABEL_CHARS + 4
    canvas = Image.new("L", (grid.shape[1] + margin, grid.shape[0]), BACKGROUND)
    picture = Image.fromarray(grid[:, :, 0] if c == 1 else grid.mean(2).astype(np.uint8))
    canvas.paste(picture, (margin, 0))
    draw = ImageDraw.Draw(canvas)
    for r, label in enumerate(labels):
        top = pad + r * (tile + pad) + max(0, (tile - 10) // 2)
        draw.text((2, top), label[:LABEL_CHARS], fill=255)
    out = np.asarray(canvas)[:, :, None]
    if c == 3:  # the labels' margin in grey, the images in colour
        colour = np.repeat(out, 3, axis=2).copy()
        colour[:, margin:] = grid
        return colour
    return out


def png_bytes(grid: np.ndarray) -> bytes:
    """A ``(H, W, C)`` uint8 array as PNG bytes (grey for one channel)."""
    array = grid[:, :, 0] if grid.shape[2] == 1 else grid
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
