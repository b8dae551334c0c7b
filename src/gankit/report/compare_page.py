"""The comparison page: ``DIR/report.html`` for several runs, seeds of one config grouped
(`gankit.report.groups`): sortable tables of groups and runs, curves overlaid, final samples
side by side (a toy run's last snapshot over its density, an image run's last sample grid), the
config keys that tell the groups apart."""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib.pyplot as plt

from gankit import runs
from gankit.report.figures import (
    DensityFrames,
    histogram_density,
    key_panels,
    logged_keys,
    png_data_uri,
    series,
)
from gankit.report.groups import (
    Group,
    fmt_stat,
    group_runs,
    load_runs,
    metric_keys,
)
from gankit.report.htmlkit import SORT_JS, esc, figure, img, page, pixel_img
from gankit.report.imagegrid import last_grid, zoom_width
from gankit.report.readers import load_snapshot


def _curves_figure(groups: list[Group]):
    """One panel per key of `CURVE_PANELS` that some run logged (a reference such as FID's
    real-data floor dashed on its metric's panel), every run overlaid, coloured by group."""
    present = set()
    for g in groups:
        for r in g.runs:
            present |= logged_keys(r.rows)
    panels = [
        (key, refs, log)
        for key, refs, log in key_panels(present)
        if any(series(r.rows, key)[0] for g in groups for r in g.runs)
    ]
    if not panels:
        return None
    cols = 2
    nrows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(11, 2.7 * nrows), squeeze=False)
    for ax, (key, refs, log) in zip(axes.ravel(), panels):
        positive = True
        for gi, g in enumerate(groups):
            for ri, r in enumerate(g.runs):
                for ref in (key, *refs):
                    steps, values = series(r.rows, ref)
                    if not steps:
                        continue
                    positive &= min(values) > 0
                    ax.plot(
                        steps,
                        values,
                        color=f"C{gi % 10}",
                        lw=1 if ref == key else 0.8,
                        ls="-" if ref == key else "--",
                        alpha=0.75,
                        label=g.label if ri == 0 and ref == key else None,
                    )
        if log and positive:
            ax.set_yscale("log")
        ax.set_title(key + (f" (dashed: {', '.join(refs)})" if refs else ""), fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=7)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _samples_figure(groups: list[Group], limit: int = 16):
    """The toy runs' last snapshots, over their true densities (None without one)."""
    items = [(g, r) for g in groups for r in g.runs if r.kind == "toy" and r.snapshots][:limit]
    if not items:
        return None
    cols = min(4, len(items))
    nrows = math.ceil(len(items) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(2.9 * cols, 2.7 * nrows), squeeze=False)
    for ax, (g, r) in zip(axes.ravel(), items):
        step, path = r.snapshots[-1]
        snap = load_snapshot(path)
        frames = DensityFrames(r.data, [(step, snap)])
        if r.data.dim == 1:
            x = snap["samples"][:, 0]
            colour = f"C{groups.index(g) % 10}"
            # normalised over all samples, as in the run report: mass outside the axes is missing
            ax.stairs(
                histogram_density(x, frames.edges), frames.edges, fill=True, alpha=0.5, color=colour
            )
            ax.plot(frames.grid, frames.p_data, "k", lw=1.2)
            ax.set_xlim(frames.edges[0], frames.edges[-1])
        else:
            frames.draw_2d(ax, step, snap)
        ax.set_title(f"{r.label}\nstep {step}", fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(items) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _grids_html(groups: list[Group], limit: int = 16) -> str:
    """The image runs' last sample grids side by side, captioned with run and step ("" without
    an image run)."""
    items = [r for g in groups for r in g.runs if r.kind == "images"]
    shown, missing = [], []
    for r in items[:limit]:
        last = last_grid(r.grids, r.snapshots)
        if last is None:
            missing.append(r.label)
            continue
        step, uri, width = last
        alt = f"final samples of {r.label}"
        shown.append(figure(pixel_img(uri, alt, zoom_width(width, 240)), f"{r.label}, step {step}"))
    out = f'<div class="strip">{"".join(shown)}</div>' if shown else ""
    if missing:
        out += f'<p class="na">no sample grid: {esc(", ".join(missing))}</p>'
    if len(items) > limit:
        out += f'<p class="na">{len(items) - limit} more image run(s) not shown</p>'
    return out


def comparison_html(groups: list[Group], out_dir: Path) -> str:
    all_runs = [r for g in groups for r in g.runs]
    keys = metric_keys(all_runs)
    title = f"gankit comparison: {len(all_runs)} runs in {len(groups)} group(s)"
    parts = [
        f'<h1>{esc(title)}</h1><p class="sub">Runs whose configs differ only in '
        "train.seed form a group: mean &plusmn; std (ddof 1) and the 95% t-interval of the "
        "mean. Click a column header to sort.</p>"
    ]

    head = "".join(f"<th>{esc(k)}</th>" for k in ["group", "n"] + keys)
    body = []
    for g in groups:
        st = g.stats()
        cells = [f"<td>{esc(g.label)}</td>", f'<td data-v="{len(g.runs)}">{len(g.runs)}</td>']
        for k in keys:
            s = st.get(k)
            if s is None or s.n == 0:
                cells.append('<td data-v="">-</td>')
                continue
            text = fmt_stat(s.mean)
            if s.n >= 2:
                ci = f"[{fmt_stat(s.ci_low)}, {fmt_stat(s.ci_high)}]"
                text += f" &plusmn; {fmt_stat(s.std)}<br><small>{ci}</small>"
            if s.n_nonfinite:
                text += f"<br><small>+{s.n_nonfinite} inf/nan</small>"
            cells.append(f'<td data-v="{s.mean:.10g}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    parts.append(
        '<h2>Groups</h2><div class="scroll"><table class="sortable"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div>"
    )

    head = "".join(f"<th>{esc(k)}</th>" for k in ["run", "group", "seed"] + keys)
    body = []
    for g in groups:
        for r in g.runs:
            report = r.path / runs.REPORT
            name = esc(r.label)
            if report.is_file():
                rel = os.path.relpath(report.resolve(), out_dir.resolve())
                name = f'<a href="{esc(Path(rel).as_posix())}">{name}</a>'
            cells = [
                f"<td>{name}</td>",
                f'<td class="l">{esc(g.label)}</td>',
                f'<td data-v="{r.seed}">{r.seed}</td>',
            ]
            for k in keys:
                v = r.metrics.get(k)
                dv = f"{v:.10g}" if isinstance(v, float) and math.isfinite(v) else ""
                cells.append(f'<td data-v="{dv}">{fmt_stat(v) if v is not None else ""}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
    parts.append(
        '<h2>Runs</h2><div class="scroll"><table class="sortable"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div>"
    )

    curves = _curves_figure(groups)
    parts.append(
        "<h2>Curves</h2>"
        + (
            img(png_data_uri(curves), "curves overlaid")
            if curves is not None
            else '<p class="na">no curves</p>'
        )
    )
    samples = _samples_figure(groups)
    grids = _grids_html(groups)
    parts.append(
        "<h2>Final samples</h2>"
        + (img(png_data_uri(samples), "final samples of each run") if samples is not None else "")
        + grids
        + ('<p class="na">no snapshots</p>' if samples is None and not grids else "")
    )
    differs = sorted({k for g in groups for k in g.differs})
    if differs:
        rows = "".join(
            "<tr><td>"
            + esc(g.label)
            + "</td>"
            + "".join(f"<td>{esc(g.differs.get(k))}</td>" for k in differs)
            + "</tr>"
            for g in groups
        )
        parts.append(
            "<h2>Config differences</h2><table><thead><tr><th>group</th>"
            + "".join(f"<th>{esc(k)}</th>" for k in differs)
            + f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append(
        "<h2>Runs compared</h2><pre>" + esc("\n".join(str(r.path) for r in all_runs)) + "</pre>"
    )
    return page(title, "".join(parts), (SORT_JS,))


def write_comparison(paths, out_dir: str | Path) -> Path:
    """``DIR/report.html`` comparing the runs in ``paths``; returns its path. ``DIR`` is never
    a run directory (the page would replace that run's own report: refused before anything is
    read or written)."""
    out_dir = runs.check_comparison_out(out_dir)
    loaded = load_runs(paths)
    groups = group_runs(loaded)
    text = comparison_html(groups, out_dir)
    target = out_dir / runs.REPORT
    runs.atomic_write_text(target, text)
    return target
