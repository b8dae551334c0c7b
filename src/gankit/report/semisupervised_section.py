"""The semi-supervised GAN's section of ``RUN/report.html``: D's held-out accuracy (final and
over the evaluations), the held-out confusion matrix and a grid of held-out images, a row per
class D predicts (the misclassified ones tinted red), read from ``RUN/classes.npz`` (written by
the final evaluation) and ``metrics.jsonl``; for the supervised baseline
(``semi.adversarial = false``) the same, with no G."""

from __future__ import annotations

import numpy as np

from gankit.errors import GankitError
from gankit.report.htmlkit import esc, fmt, pixel_img
from gankit.report.imagegrid import png_uri, tile, zoom_width
from gankit.report.readers import RunFiles, load_arrays

#: the file a semi-supervised run's final evaluation writes: ``confusion (K, K)`` int64 (row:
#: true class, column: predicted), ``shown (N, C, H, W)`` uint8 held-out images (a few per
#: predicted class), their ``shown_predicted`` and ``shown_labels`` ``(N,)`` int64
CLASSES = "classes.npz"
#: the grid is zoomed towards this width (CSS pixels)
GRID_WIDTH = 320


def _na(text: str) -> str:
    return f'<p class="na">{esc(text)}</p>'


def class_rows(arrays: dict[str, np.ndarray], k: int) -> tuple[np.ndarray, int]:
    """``(k * cols, 3, H, W)`` uint8: row ``c`` holds the shown images D predicts as ``c`` (white
    where fewer), those whose label differs tinted red; and ``cols``. `GankitError` where the
    arrays are missing or disagree."""
    missing = [key for key in ("shown", "shown_predicted", "shown_labels") if key not in arrays]
    if missing:
        raise GankitError(f"{CLASSES} lacks {', '.join(missing)}")
    shown = np.asarray(arrays["shown"])
    predicted = np.asarray(arrays["shown_predicted"]).astype(np.int64)
    labels = np.asarray(arrays["shown_labels"]).astype(np.int64)
    if (
        shown.ndim != 4
        or shown.dtype != np.uint8
        or not len(shown) == len(predicted) == len(labels)
    ):
        raise GankitError(f"{CLASSES}: images {shown.shape} for {len(predicted)} predictions")
    if len(predicted) and (predicted.min() < 0 or predicted.max() >= k):
        raise GankitError(f"{CLASSES}: predicted classes outside 0..{k - 1}")
    rgb = np.repeat(shown, 3, axis=1) if shown.shape[1] == 1 else shown.copy()
    wrong = predicted != labels
    rgb[wrong, 1:] //= 3  # red: green and blue dimmed
    counts = np.bincount(predicted, minlength=k)
    cols = max(1, int(counts.max()) if len(counts) else 1)
    grid = np.full((k * cols, 3, *shown.shape[2:]), 255, np.uint8)
    for c in range(k):
        mine = rgb[predicted == c]
        grid[c * cols : c * cols + len(mine)] = mine
    return grid, cols


def confusion_html(confusion: np.ndarray) -> str:
    """The held-out confusion matrix as a table (rows: true class, columns: predicted)."""
    k = confusion.shape[0]
    head = "".join(f"<th>{c}</th>" for c in range(k))
    body = ""
    for r in range(k):
        cells = "".join(
            f"<td><b>{int(v)}</b></td>" if c == r else f"<td>{int(v) or ''}</td>"
            for c, v in enumerate(confusion[r])
        )
        total = int(confusion[r].sum())
        acc = fmt(float(confusion[r, r] / total)) if total else "-"
        body += f"<tr><th>{r}</th>{cells}<td>{acc}</td></tr>"
    return (
        "<table><thead><tr><th>true \\ predicted</th>"
        f"{head}<th>accuracy</th></tr></thead><tbody>{body}</tbody></table>"
    )


def accuracy_text(run: RunFiles) -> str:
    """D's held-out accuracy at the end and over the evaluations, and its accuracy on the
    unlabelled training images at the end where measured."""
    final = (run.final or {}).get("heldout_accuracy")
    unlabelled = (run.final or {}).get("unlabelled_accuracy")
    curve = [
        (r["step"], r["heldout_accuracy"])
        for r in run.rows
        if isinstance(r.get("heldout_accuracy"), float) and "step" in r
    ]
    parts = [f"final held-out accuracy {fmt(final)}" if final is not None else "no final metrics"]
    if unlabelled is not None:
        parts.append(f"on the unlabelled training images {fmt(unlabelled)}")
    if curve:
        parts.append("over training: " + ", ".join(f"{s}: {fmt(a)}" for s, a in curve))
    return "; ".join(parts)


def _semi_setting(run: RunFiles, key: str, default):
    section = run.config.sections.get("semi")
    if isinstance(section, dict):
        return section.get(key, default)
    return getattr(section, key, default) if section is not None else default


def semisupervised_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the section (a note where ``classes.npz`` is missing)."""
    adversarial = _semi_setting(run, "adversarial", True)
    per_class = _semi_setting(run, "labels_per_class", 10)
    what = (
        "the semi-supervised GAN's D (Salimans et al. 2016: K classes + generated, G by "
        "feature matching)"
        if adversarial
        else "the supervised baseline: the same D trained on the labelled images alone"
    )
    head = (
        f"<p>{esc(what)}, {esc(per_class)} labelled training images per class; "
        f"{esc(accuracy_text(run))}.</p>"
    )
    path = run.path / CLASSES
    if not path.is_file():
        return [("semi-classes", "Classes (semi-supervised D)", head + _na(f"no {CLASSES} yet"))]
    try:
        arrays = load_arrays(path, "classes file")
        confusion = np.asarray(arrays.get("confusion"))
        if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
            raise GankitError(f"{CLASSES}: confusion of shape {confusion.shape}")
        grid, cols = class_rows(arrays, confusion.shape[0])
        picture = tile(grid, cols=cols, pad=1)
        body = (
            "<p>Held-out images, a row per class D predicts (row 0 at the top; red: the "
            "label differs).</p>"
            + pixel_img(
                png_uri(picture),
                "held-out images by predicted class",
                zoom_width(picture.shape[1], GRID_WIDTH),
            )
            + "<p>Held-out confusion matrix (rows: true class).</p>"
            + confusion_html(confusion)
        )
    except (GankitError, ValueError) as exc:
        body = _na(f"{CLASSES} could not be drawn: {exc}")
    return [("semi-classes", "Classes (semi-supervised D)", head + body)]
