"""The pix2pix section of ``RUN/report.html``: rows of (input, translation, a second translation,
target) for the first held-out examples, read from ``RUN/translations.npz`` (written by the
final evaluation of a pix2pix run), beside the family's final metrics (``l1_error``,
``translation_agreement``) and FID. The two translations differ by their dropout masks only
(pix2pix's noise, on at test time): how alike they are shows how little noise G keeps."""

from __future__ import annotations

import numpy as np

from gankit.errors import GankitError
from gankit.report.htmlkit import esc, fmt, pixel_img
from gankit.report.imagegrid import png_uri, tile, zoom_width
from gankit.report.readers import RunFiles, load_arrays

#: the file a pix2pix run's final evaluation writes: uint8 ``(N, C, H, W)`` arrays ``inputs``,
#: ``translations``, ``translations_again`` (other dropout masks), ``targets``; ``labels``
#: ``(N,)`` int64 where the data has them
TRANSLATIONS = "translations.npz"
#: held-out examples in it
TRANSLATIONS_SHOWN = 16
COLUMNS = ("inputs", "translations", "translations_again", "targets")
#: the grid is zoomed towards this width (CSS pixels)
GRID_WIDTH = 240


def _na(text: str) -> str:
    return f'<p class="na">{esc(text)}</p>'


def translation_rows(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """``(4N, C, H, W)`` uint8: per example, its input, two translations and its target, in
    that order (a grid of 4 columns shows one example a row); `GankitError` when the arrays
    are missing or disagree in shape."""
    missing = [k for k in COLUMNS if k not in arrays]
    if missing:
        raise GankitError(f"{TRANSLATIONS} lacks {', '.join(missing)}")
    parts = [np.asarray(arrays[k]) for k in COLUMNS]
    shapes = {p.shape for p in parts}
    if len(shapes) != 1 or parts[0].ndim != 4 or len(parts[0]) == 0:
        raise GankitError(f"{TRANSLATIONS}: arrays of shapes {sorted(shapes)}")
    return np.stack(parts, axis=1).reshape(-1, *parts[0].shape[1:])


def metrics_text(final: dict | None) -> str:
    if not final:
        return "no final metrics (the run has not finished)"
    keys = ["l1_error", "translation_agreement"]
    keys += sorted(k for k in final if k.startswith("fid_") and "_std_" not in k)
    found = [f"{k} {fmt(final[k])}" for k in keys if k in final]
    return "final: " + ", ".join(found) if found else "no translation metrics"


def pix2pix_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the pix2pix section (a note where its file is missing)."""
    task = run.config.sections.get("pix2pix")
    task = getattr(task, "task", None) or (task or {}).get("task", "lower-half")
    head = (
        f"<p>Held-out examples of the {esc(task)} task, one a row: input | translation | "
        "another translation (other dropout masks) | target. "
        f"{esc(metrics_text(run.final))}.</p>"
    )
    path = run.path / TRANSLATIONS
    if not path.is_file():
        body = _na(f"no {TRANSLATIONS} (written by the final evaluation): not finished yet")
    else:
        try:
            images = translation_rows(load_arrays(path, "translations file"))
            grid = tile(images, cols=len(COLUMNS), pad=1)
            body = pixel_img(
                png_uri(grid),
                "input | translation | translation | target",
                zoom_width(grid.shape[1], GRID_WIDTH),
            )
        except (GankitError, ValueError) as exc:
            body = _na(f"{TRANSLATIONS} could not be drawn: {exc}")
    return [("translations", "Translations (pix2pix)", head + body)]
