"""``RUN/report.html``: one self-contained page built only from a run directory's files.

Every image is a PNG inlined as a base64 data URI, the CSS is inline, the one script (the
density animation's player) is inline: the page makes no network request and opens offline.

Sections: the resolved config and the command that reproduces it; the diagnosis
(``RUN/diagnosis.json``); the final metrics (``RUN/final_metrics.json``); curves over steps
(losses, D(x)/D(G(z)), gradient norms, learning rates, divergences, mode metrics) with the
diagnosed failures' step ranges shaded; the density's evolution from ``RUN/snapshots/`` (1-D: G's
histogram over the true density and the learned D beside the estimate of D*; 2-D: samples over
the true density's contours), as a few frames and as an animation.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from gankit import runs  # noqa: E402
from gankit.errors import GankitError  # noqa: E402

REPORT = "report.html"
DIAGNOSIS = "diagnosis.json"
FINAL = "final_metrics.json"
MAX_FRAMES = 12  # animation frames (evenly spread over the snapshots, the last always kept)
STATIC_FRAMES = 4  # frames shown side by side
DPI = 72
FAIL_COLOURS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")

# ----------------------------------------------------------------------------- reading a run


@dataclass
class RunFiles:
    """What a report needs, read from a run directory (and nothing else)."""

    path: Path
    config: Any
    config_text: str
    rows: list[dict]
    final: dict | None
    diagnosis: dict | None
    diagnosis_error: str | None
    snapshots: list[tuple[int, Path]]
    data: Any = field(repr=False)


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GankitError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(value, dict):
        raise GankitError(f"{path}: expected a JSON object")
    return value


def snapshot_steps(run_dir: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of ``RUN/snapshots/step-N.npz``, by step."""
    found = []
    for p in (Path(run_dir) / runs.SNAPSHOTS).glob("step-*.npz"):
        m = re.fullmatch(r"step-(\d+)\.npz", p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def load_snapshot(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise GankitError(f"{path}: not a readable snapshot ({exc})") from None


def read_run(run_dir: str | Path) -> RunFiles:
    """Read a run directory; `GankitError` naming the directory or file when it is not one."""
    from gankit import api
    from gankit import config as config_mod

    path = runs.require_run_dir(run_dir)
    config_text = (path / runs.CONFIG).read_text()
    try:
        config = config_mod.resolve(config_file=path / runs.CONFIG)
    except GankitError as exc:
        message = str(exc)
        raise GankitError(
            message if str(path) in message else f"{path / runs.CONFIG}: {message}"
        ) from None
    try:
        data = api.load_run(path).data
    except GankitError:  # no or unreadable checkpoint: the page needs only the data's density
        data = api.build_data(config)
    rows = runs.read_metrics(path)
    final = _read_json(path / FINAL) if (path / FINAL).is_file() else None
    diagnosis, diagnosis_error = None, None
    if (path / DIAGNOSIS).is_file():
        try:
            diagnosis = _read_json(path / DIAGNOSIS)
            if not isinstance(diagnosis.get("failures", []), list):
                raise GankitError(f"{path / DIAGNOSIS}: 'failures' is not a list")
        except GankitError as exc:
            diagnosis, diagnosis_error = None, str(exc)
    return RunFiles(
        path,
        config,
        config_text,
        rows,
        final,
        diagnosis,
        diagnosis_error,
        snapshot_steps(path),
        data,
    )


def failures_of(run: RunFiles) -> list[dict]:
    if not run.diagnosis:
        return []
    return [f for f in run.diagnosis.get("failures", []) if isinstance(f, dict)]


# ----------------------------------------------------------------------------- figures


def png_data_uri(fig: plt.Figure, dpi: int = DPI, close: bool = True) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (no metadata, no link inside)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    if close:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    steps, values = [], []
    for r in rows:
        v = r.get(key)
        if r.get("event") == "evaluate":
            continue
        if (
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            and isinstance(r.get("step"), int)
        ):
            steps.append(r["step"])
            values.append(float(v))
    return steps, values


CURVE_PANELS = (
    ("losses", ("d_loss", "g_loss"), False),
    ("D(x) and D(G(z))", ("d_real", "d_fake"), False),
    ("gradient norms", ("grad_norm_d", "grad_norm_g"), True),
    ("learning rates", ("lr_d", "lr_g"), False),
    ("divergences to the data", ("jsd", "kl_data_model", "kl_model_data", "w1", "ks"), True),
    ("modes", ("modes_covered", "high_quality"), False),
)


def shade_failures(ax, failures: list[dict], label: bool = False) -> None:
    """``axvspan`` over each failure's step range."""
    for i, f in enumerate(failures):
        first, last = f.get("first_step"), f.get("last_step")
        if not isinstance(first, (int, float)):
            continue
        last = last if isinstance(last, (int, float)) else first
        colour = FAIL_COLOURS[i % len(FAIL_COLOURS)]
        ax.axvspan(
            first,
            max(last, first),
            color=colour,
            alpha=0.15,
            lw=0,
            label=str(f.get("name", "failure")) if label else None,
        )


def curves_figure(rows: list[dict], failures: list[dict]) -> plt.Figure | None:
    panels = []
    for title, keys, log in CURVE_PANELS:
        series = [(k, *_series(rows, k)) for k in keys]
        series = [s for s in series if s[1]]
        if series:
            panels.append((title, series, log))
    if not panels:
        return None
    cols = 2
    nrows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(11, 3.0 * nrows), squeeze=False)
    for ax, (title, series, log) in zip(axes.ravel(), panels):
        twin = None
        for i, (key, steps, values) in enumerate(series):
            target = ax
            if title == "modes" and key == "high_quality" and i > 0:  # a fraction beside a count
                twin = target = ax.twinx()
                target.set_ylim(-0.02, 1.02)
                target.set_ylabel("high_quality (fraction)", fontsize=8)
            target.plot(
                steps,
                values,
                label=key,
                lw=1.2,
                color=f"C{i}",
                marker="." if len(steps) < 40 else None,
            )
        if log and all(v > 0 for _, _, vals in series for v in vals):
            ax.set_yscale("log")
        shade_failures(ax, failures, label=True)
        ax.set_title(title)
        ax.set_xlabel("step")
        handles, labels = ax.get_legend_handles_labels()
        if twin is not None:
            more = twin.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        ax.legend(handles, labels, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _true_density_1d(data, grid: np.ndarray) -> np.ndarray:
    return np.exp(data.log_prob(torch.from_numpy(grid.astype(np.float64))).numpy())


class DensityFrames:
    """Draws one snapshot per call on fixed axes, so that the frames of an animation line up."""

    def __init__(self, data, snaps: list[tuple[int, dict]]):
        self.data = data
        self.dim = data.dim
        if self.dim == 1:
            lo, hi = data.support()
            self.edges = np.linspace(lo, hi, 81)
            self.centres = 0.5 * (self.edges[1:] + self.edges[:-1])
            self.grid = np.linspace(lo, hi, 300)
            self.p_data = _true_density_1d(data, self.grid)
            self.p_data_bins = _true_density_1d(data, self.centres)
            peak = self.p_data.max()
            for _, s in snaps:
                from gankit.report.plots import histogram_density

                peak = max(peak, histogram_density(s["samples"][:, 0], self.edges).max())
            # an early spike of G would flatten every later frame: clip it instead (a point
            # mass has no density to clip against)
            true_peak = self.p_data.max() if np.isfinite(self.p_data).all() else 0.0
            self.ymax = min(1.1 * peak, 1.8 * true_peak) if true_peak > 0 else 1.1 * peak or 1.0
        else:
            pts = [s["samples"][:, :2] for _, s in snaps]
            allpts = np.concatenate(pts) if pts else np.zeros((0, 2))
            modes = data.modes
            ref = (
                modes.numpy()[:, :2]
                if modes is not None
                else data.sample(2000, torch.Generator().manual_seed(0)).numpy()[:, :2]
            )
            lo = ref.min(0) - 0.5
            hi = ref.max(0) + 0.5
            if len(allpts):  # follow the samples a little, but never too far out
                q_lo, q_hi = np.percentile(allpts, 1, axis=0), np.percentile(allpts, 99, axis=0)
                span = hi - lo
                lo = np.maximum(np.minimum(lo, q_lo - 0.2), lo - span)
                hi = np.minimum(np.maximum(hi, q_hi + 0.2), hi + span)
            self.lo, self.hi = lo, hi
            xs, ys = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
            flat = np.stack([xs.ravel(), ys.ravel()], 1)
            if data.dim > 2:
                flat = np.concatenate([flat, np.zeros((len(flat), data.dim - 2))], 1)
            logp = data.log_prob(torch.from_numpy(flat)).numpy().reshape(xs.shape)
            self.contour = (xs, ys, np.exp(logp))

    def draw_1d(self, ax_hist, ax_d, step: int, snap: dict, legend: bool = True) -> None:
        from gankit.report.plots import histogram_density, optimal_discriminator

        x = snap["samples"][:, 0]
        p_model = histogram_density(x, self.edges)
        ax_hist.stairs(p_model, self.edges, fill=True, alpha=0.5, color="C0", label="G(z)")
        ax_hist.plot(self.grid, self.p_data, "k", lw=1.5, label="p_data")
        ax_hist.set_ylim(0, self.ymax)
        ax_hist.set_xlim(self.edges[0], self.edges[-1])
        ax_hist.set_title(f"samples, step {step}", fontsize=10)
        d_star = optimal_discriminator(self.p_data_bins, p_model)
        mass = self.p_data_bins + p_model  # the estimate is noise where both are ~0: hide it
        d_star = np.where(mass > 0.01 * mass.max(), d_star, np.nan)
        ax_d.plot(self.centres, d_star, "--", color="C1", label="D* estimate")
        if "d_grid" in snap and "grid" in snap:
            prob = bool(snap.get("d_is_probability", np.array(True)))
            if prob:
                ax_d.plot(snap["grid"], snap["d_grid"], color="C2", label="learned D(x)")
            else:
                twin = ax_d.twinx()
                twin.plot(snap["grid"], snap["d_grid"], color="C2", label="critic score")
                twin.tick_params(labelsize=7)
                if legend:
                    twin.legend(loc="upper right", fontsize=7)
        ax_d.axhline(0.5, color="grey", lw=0.5)
        ax_d.set_ylim(-0.02, 1.02)
        ax_d.set_xlim(self.edges[0], self.edges[-1])
        ax_d.set_title(f"discriminator, step {step}", fontsize=10)
        if legend:
            ax_hist.legend(fontsize=7, loc="upper right")
            ax_d.legend(fontsize=7, loc="upper left")

    def draw_2d(self, ax, step: int, snap: dict) -> None:
        xs, ys, p = self.contour
        ax.contour(xs, ys, p, levels=5, cmap="Greys", linewidths=0.8)
        modes, std = self.data.modes, self.data.mode_std
        if modes is not None:  # narrow modes slip between grid points: mark them too
            m = modes.numpy()
            ax.scatter(m[:, 0], m[:, 1], marker="+", s=40, color="k", lw=1, zorder=3)
            if std and len(m) <= 100:
                for c in m:
                    ax.add_patch(plt.Circle(c[:2], 3 * std, fill=False, color="C3", lw=0.6))
        pts = snap["samples"][:3000]
        ax.scatter(pts[:, 0], pts[:, 1], s=1.5, alpha=0.35, color="C0", rasterized=True)
        ax.set_xlim(self.lo[0], self.hi[0])
        ax.set_ylim(self.lo[1], self.hi[1])
        ax.set_aspect("equal")
        ax.set_title(f"step {step}", fontsize=10)
        ax.tick_params(labelsize=7)

    def frame(self, step: int, snap: dict) -> plt.Figure:
        if self.dim == 1:
            fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
            self.draw_1d(a, b, step, snap)
            fig.subplots_adjust(left=0.06, right=0.94, bottom=0.09, top=0.91, wspace=0.22)
        else:
            fig, a = plt.subplots(figsize=(4.6, 4.6))
            self.draw_2d(a, step, snap)
            fig.subplots_adjust(left=0.1, right=0.97, bottom=0.07, top=0.93)
        return fig  # fixed margins (not tight_layout): frames line up, and it is faster

    def strip(self, snaps: list[tuple[int, dict]]) -> plt.Figure:
        n = len(snaps)
        if self.dim == 1:
            fig, axes = plt.subplots(2, n, figsize=(2.9 * n, 5.0), squeeze=False)
            for i, (step, snap) in enumerate(snaps):
                self.draw_1d(axes[0, i], axes[1, i], step, snap, legend=i == 0)
                for ax in axes[:, i]:
                    ax.tick_params(labelsize=7)
        else:
            fig, axes = plt.subplots(1, n, figsize=(2.9 * n, 3.1), squeeze=False)
            for i, (step, snap) in enumerate(snaps):
                self.draw_2d(axes[0, i], step, snap)
        fig.tight_layout()
        return fig


def pick_evenly(items: list, k: int) -> list:
    """At most ``k`` items, evenly spread, first and last included."""
    if len(items) <= k:
        return list(items)
    idx = np.unique(np.round(np.linspace(0, len(items) - 1, k)).astype(int))
    return [items[i] for i in idx]


# ----------------------------------------------------------------------------- HTML pieces

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;
 color:#222;background:#fafafa}
main{max-width:1120px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.6em;margin:.4em 0 .1em}h2{font-size:1.25em;border-bottom:1px solid #ddd;
 padding-bottom:4px;margin-top:1.6em}
.sub{color:#666;margin:0 0 1em}
pre{background:#f0f0f0;padding:10px;overflow:auto;font-size:12px;border-radius:4px}
code{background:#f0f0f0;padding:1px 4px;border-radius:3px}
img{max-width:100%;height:auto;display:block;margin:8px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#eee;cursor:default}td:first-child,th:first-child{text-align:left}
table.sortable th{cursor:pointer}table.sortable th:hover{background:#ddd}
.ok{background:#e8f5e9;border-left:4px solid #43a047;padding:8px 12px}
.na{background:#eee;border-left:4px solid #999;padding:8px 12px}
.fail{background:#fdecea;border-left:4px solid #d62728;padding:8px 12px;margin:8px 0}
.fail h3{margin:0 0 4px;font-size:1.05em}
.player{background:#fff;border:1px solid #ddd;padding:8px;border-radius:4px}
.player .frame{display:none}.player .frame.on{display:block}
.controls{display:flex;gap:10px;align-items:center}
.grid{display:flex;flex-wrap:wrap;gap:8px}.grid figure{margin:0;flex:1 1 300px}
figcaption{font-size:12px;color:#555;text-align:center}
details summary{cursor:pointer;color:#444}
.scroll{overflow-x:auto}td.l{text-align:left}
"""

PLAYER_JS = """
document.querySelectorAll('.player').forEach(function(p){
  var frames=p.querySelectorAll('.frame'),slider=p.querySelector('input'),
      btn=p.querySelector('button'),label=p.querySelector('.step'),i=frames.length-1,
      timer=null;
  function show(k){frames[i].classList.remove('on');i=(k+frames.length)%frames.length;
    frames[i].classList.add('on');slider.value=i;label.textContent=frames[i].dataset.step;}
  slider.max=frames.length-1;
  slider.oninput=function(){show(parseInt(slider.value,10));};
  btn.onclick=function(){if(timer){clearInterval(timer);timer=null;btn.textContent='play';}
    else{timer=setInterval(function(){show(i+1);},600);btn.textContent='pause';}};
});
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,col){th.title='click to sort';
    th.onclick=function(){var body=t.tBodies[0],rows=Array.from(body.rows),
      asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';
      function key(r){var c=r.cells[col],v=c.dataset.v!==undefined?c.dataset.v:c.textContent;
        var n=parseFloat(v);return isNaN(n)?v:n;}
      rows.sort(function(a,b){var x=key(a),y=key(b);
        if(typeof x!==typeof y){x=String(x);y=String(y);}
        return (x<y?-1:x>y?1:0)*(asc?1:-1);});
      rows.forEach(function(r){body.appendChild(r);});};});
});
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.4g}"
    return str(value)


def img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{esc(alt)}">'


def page(title: str, body: str, scripts: tuple[str, ...] = ()) -> str:
    script = "".join(f"<script>{s}</script>" for s in scripts)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main>{script}</body></html>\n"
    )


def player_html(frames: list[tuple[int, str]], alt: str) -> str:
    imgs = "".join(
        f'<img class="frame{" on" if i == len(frames) - 1 else ""}" data-step="{step}" '
        f'src="{uri}" alt="{esc(alt)} at step {step}">'
        for i, (step, uri) in enumerate(frames)
    )
    return (
        f'<div class="player">{imgs}<div class="controls"><button type="button">play'
        f'</button><input type="range" min="0" max="{len(frames) - 1}" '
        f'value="{len(frames) - 1}" aria-label="frame"><span>step <b class="step">'
        f"{frames[-1][0]}</b></span></div></div>"
    )


def diagnosis_html(run: RunFiles) -> str:
    if run.diagnosis_error:
        return f'<p class="na">diagnosis could not be read: {esc(run.diagnosis_error)}</p>'
    if run.diagnosis is None:
        return '<p class="na">diagnosis not run (no diagnosis.json in the run directory)</p>'
    failures = failures_of(run)
    summary = run.diagnosis.get("summary")
    if not failures:
        return (
            '<p class="ok">no failure detected'
            + (f"<br><small>{esc(summary)}</small>" if isinstance(summary, str) else "")
            + "</p>"
        )
    parts = []
    for i, f in enumerate(failures):
        colour = FAIL_COLOURS[i % len(FAIL_COLOURS)]
        first, last = f.get("first_step", "?"), f.get("last_step", "?")
        evidence = f.get("evidence")
        if evidence is not None and not isinstance(evidence, str):
            evidence = json.dumps(evidence, sort_keys=True)
        advice = f.get("advice")
        if isinstance(advice, (list, tuple)):
            advice = (
                "<ul>" + "".join(f"<li>{esc(a)}</li>" for a in advice) + "</ul>" if advice else ""
            )
        elif advice:
            advice = esc(advice)
        parts.append(
            f'<div class="fail" style="border-left-color:{colour}">'
            f"<h3>{esc(f.get('name', 'failure'))} <small>steps {esc(first)}&ndash;{esc(last)}"
            f"</small></h3>"
            + (
                f"<p><b>what it means:</b> {esc(f['explanation'])}</p>"
                if f.get("explanation")
                else ""
            )
            + (f"<div><b>what to try:</b> {advice}</div>" if advice else "")
            + (
                f"<details><summary>evidence</summary><pre>{esc(evidence)}</pre></details>"
                if evidence
                else ""
            )
            + "</div>"
        )
    return (
        f"<p>{len(failures)} failure(s) detected; their step ranges are shaded on the "
        "curves.</p>" + "".join(parts)
    )


def metrics_table(metrics: dict) -> str:
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(fmt(v))}</td></tr>" for k, v in sorted(metrics.items())
    )
    return (
        f"<table><thead><tr><th>metric</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>"
    )


# ----------------------------------------------------------------------------- the page


def evolution_html(run: RunFiles) -> str:
    if not run.snapshots:
        return '<p class="na">no snapshots in the run directory</p>'
    chosen = pick_evenly(run.snapshots, MAX_FRAMES)
    snaps = [(step, load_snapshot(p)) for step, p in chosen]
    frames = DensityFrames(run.data, snaps)
    static = pick_evenly(snaps, STATIC_FRAMES)
    strip = png_data_uri(frames.strip(static))
    animated = [(step, png_data_uri(frames.frame(step, snap))) for step, snap in snaps]
    if run.data.dim == 1:
        what = (
            "Top: G's samples (histogram) over the true density p_data. Bottom: the learned "
            "discriminator D(x) beside D* = p_data / (p_data + p_g), estimated from the same "
            "histogram."
        )
    else:
        what = "G's samples over the contours of the true density."
    return (
        f"<p>{esc(what)} {len(run.snapshots)} snapshot(s); {len(snaps)} shown in the "
        f"animation.</p>{img(strip, 'density at a few steps')}"
        f"<h3>animation</h3>{player_html(animated, 'density')}"
    )


def parameter_space_html(run: RunFiles) -> str | None:
    """The Dirac-GAN's path in the (theta, psi) plane over the gradient field, beside the
    closed-form iteration of the same game; ``None`` for nets that log no parameters."""
    from gankit.game.dirac import run_trajectories, trajectory_figure

    trajs, labels, note = run_trajectories(run.rows, run.config)
    if not trajs:
        return None
    fig = trajectory_figure(trajs, labels=labels, styles=["-", ":"][: len(trajs)])
    what = (
        "G's parameter theta against D's parameter psi, over the negative gradient field of the "
        "game; the equilibrium is (0, 0). A circle that never closes in is the non-convergence "
        "of Mescheder et al. (2018); R1 spirals in."
    )
    return f"<p>{esc(what)} {esc(note)}.</p>{img(png_data_uri(fig), 'parameter space')}"


def report_html(run: RunFiles) -> str:
    name = run.path.resolve().name
    cfg = run.config
    title = f"gankit report: {name}"
    head = (
        f'<h1>{esc(title)}</h1><p class="sub">{esc(cfg.preset or "custom")} &middot; '
        f"data {esc(cfg.data.name)} &middot; loss {esc(cfg.game.loss)} &middot; "
        f"{esc(cfg.train.steps)} steps &middot; seed {esc(cfg.train.seed)}"
        + (f" &middot; {esc(cfg.description)}" if cfg.description else "")
        + "</p>"
    )
    toc = (
        '<p><a href="#diagnosis">diagnosis</a> &middot; <a href="#final">final metrics</a> '
        '&middot; <a href="#curves">curves</a> &middot; <a href="#density">density</a> '
        '&middot; <a href="#config">config</a></p>'
    )
    sections = [head, toc]
    sections.append(f'<section id="diagnosis"><h2>Diagnosis</h2>{diagnosis_html(run)}</section>')
    if run.final:
        final = metrics_table(run.final)
    else:
        final = '<p class="na">no final_metrics.json (the run has not finished)</p>'
    sections.append(f'<section id="final"><h2>Final metrics</h2>{final}</section>')
    curves = curves_figure(run.rows, failures_of(run))
    body = (
        img(png_data_uri(curves), "training curves")
        if curves is not None
        else '<p class="na">metrics.jsonl holds no logged step</p>'
    )
    sections.append(f'<section id="curves"><h2>Curves over steps</h2>{body}</section>')
    params = parameter_space_html(run)
    if params is not None:
        sections.append(f'<section id="parameters"><h2>Parameter space</h2>{params}</section>')
    sections.append(
        f'<section id="density"><h2>Density evolution</h2>{evolution_html(run)}</section>'
    )
    command = f"gankit train --config {run.path / runs.CONFIG} --out NEW"
    sections.append(
        f'<section id="config"><h2>Config</h2><p>Reproduce this run:</p>'
        f"<pre>{esc(command)}</pre><p>The resolved config (<code>config.toml</code>):</p>"
        f"<pre>{esc(run.config_text)}</pre></section>"
    )
    sections.append(
        f'<p class="sub">written {esc(time.strftime("%Y-%m-%d %H:%M:%S"))} by '
        "gankit report from the files of the run directory.</p>"
    )
    return page(title, "".join(sections), (PLAYER_JS,))


def write_report(
    run_dir: str | Path, out: str | Path | None = None, tensorboard: bool = True
) -> Path:
    """Write ``RUN/report.html`` (or ``out``, a file or a directory) and, with ``tensorboard``,
    ``RUN/tb/``; returns the page's path."""
    run = read_run(run_dir)
    text = report_html(run)
    target = Path(out) if out is not None else run.path / REPORT
    if target.is_dir() or (out is not None and target.suffix.lower() not in (".html", ".htm")):
        target = target / REPORT
    runs.atomic_write_text(target, text)
    if tensorboard:
        from gankit.report.tensorboard import write_tensorboard

        write_tensorboard(run.path, run.rows, run.snapshots)
    return target
