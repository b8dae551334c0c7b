"""The BiGAN / ALI section of ``RUN/report.html``: held-out images x above their
reconstructions G(E(x)), read from ``RUN/reconstructions.npz`` (written by the final evaluation
of an image run), and the encoder's final metrics (reconstruction agreement and error, the
linear probes on E(x) and on pixels). Read from the run's files only; a toy run has the metrics
alone, and a run that has not finished says so."""

from __future__ import annotations

import numpy as np

from gankit.errors import GankitError
from gankit.report.htmlkit import esc, fmt, pixel_img
from gankit.report.imagegrid import png_uri, tile, zoom_width
from gankit.report.readers import RunFiles, load_arrays

#: the file a BiGAN image run's final evaluation writes: uint8 ``(N, C, H, W)`` arrays
#: ``images`` (the first held-out images) and ``reconstructions``; ``labels`` ``(N,)`` int64
#: where the data has them
RECONSTRUCTIONS = "reconstructions.npz"
#: held-out images in it, and images a row of the grid
RECONSTRUCTIONS_SHOWN = 32
ROW = 16
#: the grid is zoomed towards this width (CSS pixels)
GRID_WIDTH = 480
#: the final metrics shown, in order, with what each means
METRICS = (
    (
        "reconstruction_agreement",
        "held-out images x whose reconstruction G(E(x)) the feature net labels as x's label",
    ),
    (
        "reconstruction_agreement_real",
        "held-out images x the feature net labels right (the ceiling of the agreement)",
    ),
    ("reconstruction_l2", "mean squared error per pixel (coordinate) of G(E(x)) against x"),
    (
        "linear_probe_accuracy_encoder",
        "held-out accuracy of a logistic regression on E(x) (fitted on training images)",
    ),
    (
        "linear_probe_accuracy_pixels",
        "the same logistic regression on the raw pixels of the same images",
    ),
)


def _na(text: str) -> str:
    return f'<p class="na">{esc(text)}</p>'


def reconstruction_rows(arrays: dict[str, np.ndarray], row: int = ROW) -> np.ndarray:
    """``(2N, C, H, W)`` uint8 in grid order for ``row`` columns: ``row`` images x, then their
    ``row`` reconstructions below, and so on; `GankitError` when the arrays are missing or
    disagree in shape."""
    missing = [k for k in ("images", "reconstructions") if k not in arrays]
    if missing:
        raise GankitError(f"{RECONSTRUCTIONS} lacks {', '.join(missing)}")
    x, r = np.asarray(arrays["images"]), np.asarray(arrays["reconstructions"])
    if x.shape != r.shape or x.ndim != 4 or len(x) == 0:
        raise GankitError(f"{RECONSTRUCTIONS}: arrays of shapes {x.shape} and {r.shape}")
    parts = []
    for start in range(0, len(x), row):
        parts += [x[start : start + row], r[start : start + row]]
    return np.concatenate(parts)


def _metrics_html(final: dict | None) -> str:
    if not final or "reconstruction_l2" not in final:
        return _na("no encoder metrics (no final_metrics.json: the run has not finished)")
    rows = "".join(
        f'<tr><td>{esc(key)}</td><td>{esc(fmt(final[key]))}</td><td class="l">{esc(doc)}</td></tr>'
        for key, doc in METRICS
        if key in final
    )
    return (
        "<table><thead><tr><th>metric</th><th>value</th><th>what it counts</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def bigan_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the BiGAN section; none for a run of another family."""
    if getattr(run.config.model, "family", "gan") != "bigan":
        return []
    parts = [_metrics_html(run.final)]
    if run.kind == "images":
        path = run.path / RECONSTRUCTIONS
        if not path.is_file():
            parts.append(_na(f"no {RECONSTRUCTIONS} (written by the final evaluation)"))
        else:
            try:
                images = reconstruction_rows(load_arrays(path, "reconstructions file"))
                columns = min(ROW, len(images) // 2)
                grid = tile(images, cols=columns, pad=1)
                parts.append(
                    "<p>Held-out images x (odd rows) above their reconstructions G(E(x)).</p>"
                    + pixel_img(
                        png_uri(grid),
                        "held-out images above their reconstructions",
                        zoom_width(grid.shape[1], GRID_WIDTH),
                    )
                )
            except (GankitError, ValueError) as exc:
                parts.append(_na(f"{RECONSTRUCTIONS} could not be drawn: {exc}"))
    return [("bigan", "Encoder and reconstructions (BiGAN / ALI)", "".join(parts))]
