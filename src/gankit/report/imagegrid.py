"""Images of an image run as PNG data URIs: arrays tiled into grids (snapshots, nearest
neighbours, held-out images) and the run's own grid files (``RUN/samples/step-N.png``).

Arrays are ``(N, C, H, W)``, uint8 or float in [0, 1] (`docs/image-runs.md`); a grid is drawn
at an integer zoom (`zoom_width`) with its pixels kept sharp, so that 8x8 digits stay readable.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from gankit.data.grid import make_grid, png_bytes, to_uint8
from gankit.errors import GankitError
from gankit.report.figures import pick_evenly
from gankit.report.readers import load_snapshot

#: the width a small grid is zoomed towards (CSS pixels), and the largest zoom
TARGET_WIDTH = 320
MAX_ZOOM = 8


def as_uint8_nhwc(images) -> np.ndarray:
    """``(N, H, W, C)`` uint8 from images ``(N, C, H, W)`` (uint8 or float in [0, 1])."""
    return np.ascontiguousarray(to_uint8(images).transpose(0, 2, 3, 1))


def tile(images, cols: int | None = None, pad: int = 1, fill: int = 255) -> np.ndarray:
    """The images ``(N, C, H, W)`` as one ``(rows * H, cols * W, C)`` uint8 grid at their own
    size (the page zooms it), ``pad`` pixels of ``fill`` between them."""
    return make_grid(images, cols=cols, pad=pad, scale=1, background=fill, border=False)


def png_uri(array: np.ndarray) -> str:
    """A ``(H, W, C)`` uint8 image as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(array)).decode("ascii")


def zoom_width(width: int, target: int = TARGET_WIDTH) -> int:
    """``width`` times the integer zoom that brings it nearest ``target`` from below (1 to
    `MAX_ZOOM`)."""
    return width * max(1, min(MAX_ZOOM, target // max(width, 1)))


def png_file_uri(path: Path) -> tuple[str, int]:
    """A PNG file as a data URI (its bytes as they are) and its width; `GankitError` naming the
    file when it is not a readable PNG."""
    try:
        raw = Path(path).read_bytes()
        with Image.open(io.BytesIO(raw)) as im:
            if im.format != "PNG":
                raise GankitError(f"{path}: not a PNG image ({im.format})")
            im.verify()
            width = im.size[0]
    except (OSError, SyntaxError, ValueError) as exc:
        raise GankitError(f"{path}: not a readable PNG image ({exc})") from None
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii"), width


def snapshot_grid(path: Path) -> tuple[str, int]:
    """The images of ``RUN/snapshots/step-N.npz`` tiled as a grid: a data URI and its width."""
    array = tile(load_snapshot(path).get("samples"), pad=1)
    return png_uri(array), array.shape[1]


def grid_sources(
    grids: list[tuple[int, Path]], snapshots: list[tuple[int, Path]]
) -> list[tuple[int, Path]]:
    """The files the sample grids come from: the run's ``samples/step-N.png``, else (none
    written) its snapshots."""
    return list(grids or snapshots)


def grid_frames(
    grids: list[tuple[int, Path]], snapshots: list[tuple[int, Path]], limit: int
) -> tuple[list[tuple[int, str, int]], list[str]]:
    """``(step, data URI, width)`` of at most ``limit`` sample grids evenly spread over the
    steps (`grid_sources`; snapshots' images tiled), and the errors of the files skipped."""
    frames, errors = [], []
    for step, path in pick_evenly(grid_sources(grids, snapshots), limit):
        try:
            uri, width = png_file_uri(path) if grids else snapshot_grid(path)
        except GankitError as exc:
            errors.append(str(exc))
            continue
        frames.append((step, uri, width))
    return frames, errors


def last_grid(
    grids: list[tuple[int, Path]], snapshots: list[tuple[int, Path]]
) -> tuple[int, str, int] | None:
    """The latest readable sample grid as ``(step, data URI, width)``; None without one."""
    for source, reader in ((grids, png_file_uri), (snapshots, snapshot_grid)):
        for step, path in reversed(source):
            try:
                return (step, *reader(path))
            except GankitError:
                continue
    return None
