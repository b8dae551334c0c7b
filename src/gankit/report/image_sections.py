"""The sections of an image run's ``RUN/report.html`` (`docs/image-runs.md`): the sample grids
over time, the class histogram of the generated images, nearest-neighbour pairs and real beside
generated images. Each returns HTML and degrades to a ``<p class="na">`` note when its files
are missing (a run killed early, a feature net without class logits, no final evaluation).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from gankit import runs
from gankit.errors import GankitError
from gankit.report.figures import feature_spaces, logged_keys, pick_evenly, png_data_uri
from gankit.report.htmlkit import esc, figure, fmt, pixel_img, player_html
from gankit.report.imagegrid import (
    grid_frames,
    grid_sources,
    last_grid,
    png_uri,
    tile,
    zoom_width,
)
from gankit.report.readers import RunFiles, load_arrays

MAX_FRAMES = 12  # animation frames (evenly spread over the grids, the last always kept)
FRAME_BYTES = 2_500_000  # fewer frames where large grids (CIFAR-10's) would pass this in all
STATIC_FRAMES = 5  # grids shown side by side
STRIP_WIDTH = 200  # the strip's grids are zoomed towards this width (CSS pixels)
PAIR_WIDTH = 120  # a nearest-neighbour pair is zoomed towards this width


def na(text: str) -> str:
    return f'<p class="na">{esc(text)}</p>'


def run_feature_spaces(run: RunFiles) -> list[str]:
    """The feature spaces the run's metrics were computed in (from their keys)."""
    return feature_spaces(logged_keys(run.rows) | set(run.final or {}))


def feature_space_text(run: RunFiles) -> str:
    spaces = run_feature_spaces(run)
    if spaces:
        return "feature space " + ", ".join(spaces)
    return f"feature space {run.config.log.features} (no evaluation yet)"


# ----------------------------------------------------------------------------- samples over time


def samples_html(run: RunFiles) -> str:
    sources = grid_sources(run.grids, run.snapshots)
    if not sources:
        return na(
            "no sample grids (samples/step-N.png) nor snapshots in the run directory: the run "
            "stopped before its first evaluation"
        )
    frames, errors = grid_frames(run.grids, run.snapshots, MAX_FRAMES)
    skipped = "".join(na(f"skipped: {e}") for e in errors)
    if not frames:
        return skipped or na("no readable sample grid")
    size = sum(len(uri) for _, uri, _ in frames)
    if size > FRAME_BYTES:
        frames = pick_evenly(frames, max(2, FRAME_BYTES * len(frames) // size))
    natural = max(w for _, _, w in frames)
    width, small = zoom_width(natural), zoom_width(natural, STRIP_WIDTH)
    origin = "samples/step-N.png" if run.grids else "the snapshots' images (no samples/*.png)"
    strip = "".join(
        figure(pixel_img(uri, f"generated images at step {step}", small), f"step {step}")
        for step, uri, _ in pick_evenly(frames, STATIC_FRAMES)
    )
    return (
        f"<p>{esc(len(sources))} grid(s) from {esc(origin)}; {len(frames)} shown in the "
        "animation. The same latent batch at every step, so the grid shows G learning. Every "
        "sample drawn is shown: a class-conditional G's in one labelled row per class asked "
        "for; an unconditional G's sorted by the class the feature net reads, so a collapse "
        "fills the grid with one class.</p>"
        + skipped
        + f'<div class="strip">{strip}</div><h3>animation</h3>'
        + player_html([(step, uri) for step, uri, _ in frames], "generated images", width)
    )


# ----------------------------------------------------------------------------- class histogram


def _histogram(source: dict) -> list[float] | None:
    h = source.get("class_histogram")
    if not isinstance(h, list) or not h:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in h):
        return None
    return [float(v) for v in h] if sum(h) > 0 else None


def class_histogram_source(run: RunFiles) -> tuple[list[float], str, dict] | None:
    """``(counts, where from, the metrics beside them)``: the final evaluation's histogram, else
    the last evaluation's in ``metrics.jsonl``; None without one."""
    if run.final and (h := _histogram(run.final)):
        return h, f"final evaluation, step {run.final.get('step', '?')}", run.final
    for row in reversed(run.rows):
        if h := _histogram(row):
            return h, f"last evaluation, step {row.get('step', '?')} (not finished)", row
    return None


def class_histogram_figure(counts: list[float]) -> plt.Figure:
    k = len(counts)
    shares = np.asarray(counts) / sum(counts)
    uniform = 1.0 / k
    colours = ["#d62728" if s < 0.5 * uniform else "C0" for s in shares]
    fig, ax = plt.subplots(figsize=(min(11, 5 + 0.35 * k), 3.0))
    ax.bar(np.arange(k), shares, color=colours, width=0.8 if k <= 100 else 1.0)
    ax.axhline(uniform, color="k", ls="--", lw=1, label=f"uniform share 1/{k}")
    ax.axhline(0.5 * uniform, color="grey", ls=":", lw=0.8, label="half of it (covered)")
    if k <= 30:
        ax.set_xticks(np.arange(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("share of generated images")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def class_histogram_html(run: RunFiles) -> str:
    found = class_histogram_source(run)
    if found is None:
        return na(
            "no class histogram: the feature net has no class logits, or the run has not been "
            "evaluated yet"
        )
    counts, where, source = found
    k = len(counts)
    facts = [f"{k} classes, {int(sum(counts))} generated images ({where})"]
    if isinstance(source.get("classes_covered"), (int, float)):
        facts.append(f"classes covered: {fmt(source['classes_covered'])} of {k}")
    lo, hi = source.get("class_ratio_min"), source.get("class_ratio_max")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        facts.append(f"smallest / largest share relative to uniform: {fmt(lo)} / {fmt(hi)}")
    what = (
        "The class of each generated image is the feature net's arg-max. The real data's class "
        "shares are not stored: the dashed line is the uniform share 1/K. A class is covered "
        "when it gets at least half of it; red bars are classes missed (mode dropping)."
    )
    fig = class_histogram_figure(counts)
    return (
        f"<p>{esc(what)}</p><p>{esc('; '.join(facts))}.</p>"
        f'<img src="{png_data_uri(fig)}" alt="class histogram of generated images">'
    )


# ----------------------------------------------------------------------------- per class


def _numbers(value) -> list[float | None] | None:
    if not isinstance(value, list):
        return None
    ok = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in value)
    return value if ok else None


def per_class_html(run: RunFiles) -> str:
    """A conditional G's classes one by one: how often its samples of class k are read as k,
    and the FID within class k beside that class's own real floor (the final evaluation)."""
    final = run.final or {}
    agreement = _numbers(final.get("class_agreement_per_class"))
    spaces = run_feature_spaces(run)
    space = spaces[0] if spaces else None
    fids = _numbers(final.get(f"fid_per_class_{space}")) if space else None
    floors = _numbers(final.get(f"fid_floor_per_class_{space}")) if space else None
    if agreement is None and fids is None:
        return na(
            "no per-class metrics in final_metrics.json: the run has not finished, or its "
            "final evaluation had no class-reading feature net"
        )
    k = max(len(agreement or []), len(fids or []), len(floors or []))

    def cell(values, i):
        return fmt(values[i]) if values and i < len(values) and values[i] is not None else "-"

    def ratio(i):
        if not (fids and floors and i < min(len(fids), len(floors))):
            return "-"
        f, g = fids[i], floors[i]
        return fmt(f / g) if f is not None and g not in (None, 0) else "-"

    head = "<thead><tr><th>class</th><th>agreement</th>"
    if fids:
        head += f"<th>FID in class ({esc(space)})</th><th>its floor</th><th>FID / floor</th>"
    rows = []
    for i in range(k):
        row = f"<td>{i}</td><td>{cell(agreement, i)}</td>"
        if fids:
            row += f"<td>{cell(fids, i)}</td><td>{cell(floors, i)}</td><td>{ratio(i)}</td>"
        rows.append(f"<tr>{row}</tr>")
    facts = []
    if isinstance(final.get("class_agreement_min"), (int, float)):
        facts.append(f"smallest agreement {fmt(final['class_agreement_min'])}")
    if space and isinstance(final.get(f"intra_fid_{space}"), (int, float)):
        facts.append(
            f"intra-class FID {fmt(final[f'intra_fid_{space}'])} (mean over classes; its floor "
            f"{fmt(final.get(f'intra_fid_floor_{space}'))})"
        )
    what = (
        "Agreement: the share of the samples G was asked to draw of class k that the feature "
        "net reads as k. FID in class: those samples against the held-out images of class k "
        "(Miyato & Koyama 2018's intra-FID), beside its floor: as many training images of "
        "class k against the same held-out ones, what a perfect generator of the class scores "
        "at these sizes."
    )
    return (
        f"<p>{esc(what)}</p>"
        + (f"<p>{esc('; '.join(facts))}.</p>" if facts else "")
        + f"<table>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


# ----------------------------------------------------------------------------- nearest neighbours


def read_nearest(run: RunFiles) -> tuple[dict | None, str]:
    """``RUN/nearest.npz``'s arrays, or None and why not."""
    path = run.path / runs.NEAREST
    if not path.is_file():
        return None, (
            f"no {runs.NEAREST} in the run directory (it is written with the final evaluation: the "
            "run has not finished)"
        )
    try:
        return load_arrays(path, "nearest-neighbour file"), ""
    except GankitError as exc:
        return None, str(exc)


def _space_value(final: dict | None, base: str) -> tuple[str, float] | None:
    for key, value in sorted((final or {}).items()):
        if key.startswith(base + "_") and isinstance(value, (int, float)):
            return key[len(base) + 1 :], float(value)
    return None


def nn_ratio_text(final: dict | None) -> str:
    what = (
        "nn_ratio_S is the median distance (in feature space S) of a generated image to its "
        "nearest training image, divided by that of a held-out real image to its nearest "
        "training image. Near 1: the generated images sit no closer to the training set than "
        "unseen real images do. Well below 1: they sit on top of training images "
        "(memorisation); the pairs below show which."
    )
    ratio = _space_value(final, "nn_ratio")
    if ratio is None:
        return what + " No nn_ratio in final_metrics.json."
    space, value = ratio
    text = f"{what} Here nn_ratio_{space} = {fmt(value)}"
    near = _space_value(final, "nn_train_distance")
    held = _space_value(final, "nn_heldout_distance")
    if near and held:
        text += f" (generated {fmt(near[1])}, held-out {fmt(held[1])})"
    return text + "."


def nearest_html(run: RunFiles, nearest: dict | None, why: str) -> str:
    sentence = f"<p>{esc(nn_ratio_text(run.final))}</p>"
    if nearest is None:
        return sentence + na(why)
    try:
        gen = nearest["generated"]
        train = nearest["nearest_train"]
        if len(gen) != len(train) or len(gen) == 0:
            raise GankitError(
                f"{runs.NEAREST}: {len(gen)} generated and {len(train)} nearest images"
            )
        distances = np.asarray(nearest.get("distances", []), dtype=float).ravel()
        if len(distances) != len(gen):
            distances = np.full(len(gen), np.nan)
        order = np.argsort(distances, kind="stable")  # closest (most suspect) first
        pairs = []
        for i in order:
            pair = tile(np.stack([np.asarray(gen[i]), np.asarray(train[i])]), cols=2, pad=2)
            width = zoom_width(pair.shape[1], PAIR_WIDTH)
            pairs.append(
                figure(
                    pixel_img(png_uri(pair), "generated | nearest training image", width),
                    f"d = {fmt(float(distances[i]))}",
                )
            )
    except (GankitError, KeyError, ValueError, TypeError) as exc:
        return sentence + na(f"{runs.NEAREST} could not be drawn: {exc}")
    return (
        sentence + f"<p>Each pair: a generated image | its nearest training image, and their "
        f"distance in feature space; closest pairs first ({len(pairs)} pairs).</p>"
        f'<div class="strip">{"".join(pairs)}</div>'
    )


def real_vs_generated_html(run: RunFiles, nearest: dict | None, why: str) -> str:
    parts, notes = [], []
    real = None if nearest is None else nearest.get("real")
    if real is None:
        notes.append(why if nearest is None else f"{runs.NEAREST} holds no held-out images")
    else:
        try:
            grid = tile(real)
            parts.append(
                figure(
                    pixel_img(png_uri(grid), "held-out real images", zoom_width(grid.shape[1])),
                    f"held-out real images ({len(real)})",
                )
            )
        except GankitError as exc:
            notes.append(str(exc))
    last = last_grid(run.grids, run.snapshots)
    if last is None:
        notes.append("no readable sample grid in the run directory")
    else:
        step, uri, width = last
        parts.append(
            figure(pixel_img(uri, "generated images", zoom_width(width)), f"generated, step {step}")
        )
    return "".join(na(n) for n in notes) + (
        f'<div class="strip">{"".join(parts)}</div>' if parts else ""
    )


# ----------------------------------------------------------------------------- the sections


def image_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the image sections, in the page's order."""
    nearest, why = read_nearest(run)
    sections = [
        ("samples", "Samples over time", samples_html(run)),
        ("classes", "Class histogram of generated images", class_histogram_html(run)),
    ]
    if run.config.model.conditional and not run.config.data.clusters:
        sections.append(("per-class", "Class by class (conditional G)", per_class_html(run)))
    return sections + [
        ("nearest", "Nearest training images", nearest_html(run, nearest, why)),
        ("real", "Real vs generated", real_vs_generated_html(run, nearest, why)),
    ]
