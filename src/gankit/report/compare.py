"""Comparing runs: groups of seeds, mean +- std and 95% t-intervals, and a comparison page.

Runs whose resolved configs differ only in ``train.seed`` form a group. For each metric of the
final evaluation (``RUN/final_metrics.json``; the last evaluated line of ``RUN/metrics.jsonl``
for a run that has not finished) a group reports n, the mean, the sample standard deviation
(ddof = 1) and the 95% confidence interval of the mean, mean +- t(0.975, n - 1) * std / sqrt(n)
(Student's t, `scipy.stats.t`). Non-finite values (an infinite KL is a true value) are left out
of the statistics and counted in ``n_nonfinite``; with fewer than 2 finite values std and the
interval are NaN (``null`` in JSON).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gankit import runs
from gankit.errors import GankitError

NOT_METRICS = {"step", "samples", "time", "event", "n_modes", "w1_floor"}
FIRST = (
    "jsd",
    "kl_data_model",
    "kl_model_data",
    "w1",
    "ks",
    "modes_covered",
    "high_quality",
    "reverse_kl",
    "mean",
    "std",
    "skew",
    "kurtosis",
)
CURVE_KEYS = (
    "d_loss",
    "g_loss",
    "d_real",
    "d_fake",
    "jsd",
    "w1",
    "ks",
    "kl_data_model",
    "modes_covered",
    "high_quality",
)
LOG_KEYS = {"jsd", "w1", "ks", "kl_data_model"}


@dataclass
class Stats:
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    n_nonfinite: int = 0

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "mean": _finite(self.mean),
            "std": _finite(self.std),
            "ci95": [_finite(self.ci_low), _finite(self.ci_high)],
            "n_nonfinite": self.n_nonfinite,
        }


def _finite(x: float):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def group_stats(values, level: float = 0.95) -> Stats:
    """n, mean, sample std (ddof 1) and the ``level`` t-interval of the mean of ``values``."""
    from scipy import stats

    arr = np.asarray([v for v in values if v is not None], dtype=float)
    finite = arr[np.isfinite(arr)]
    n = len(finite)
    nonfinite = len(arr) - n
    if n == 0:
        return Stats(0, math.nan, math.nan, math.nan, math.nan, nonfinite)
    mean = float(finite.mean())
    if n < 2:
        return Stats(1, mean, math.nan, math.nan, math.nan, nonfinite)
    std = float(finite.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)
    return Stats(n, mean, std, mean - half, mean + half, nonfinite)


# ----------------------------------------------------------------------------- runs and groups


@dataclass
class CompareRun:
    path: Path
    label: str
    config: object
    table: dict
    metrics: dict
    rows: list
    snapshots: list
    data: object = field(repr=False)

    @property
    def seed(self) -> int:
        return self.config.train.seed


@dataclass
class Group:
    label: str
    runs: list[CompareRun]
    differs: dict = field(default_factory=dict)

    def stats(self) -> dict[str, Stats]:
        keys = metric_keys(self.runs)
        return {k: group_stats([r.metrics.get(k) for r in self.runs]) for k in keys}


def _flatten(table: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def final_metrics(run) -> dict:
    """``final_metrics.json``, else the metrics of the last evaluated line of ``metrics.jsonl``."""
    if run.final:
        source = run.final
    else:
        source = {}
        for row in run.rows:
            if any(k in row for k in ("jsd", "w1", "ks", "modes_covered")):
                source = row
    return {
        k: float(v)
        for k, v in source.items()
        if k not in NOT_METRICS and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def load_runs(paths) -> list[CompareRun]:
    from gankit import config as config_mod
    from gankit.report.html import read_run

    if not paths:
        raise GankitError("compare: give at least one run directory")
    seen, loaded = set(), []
    for p in paths:
        key = Path(p).resolve()
        if key in seen:
            raise GankitError(f"{p}: run given twice")
        seen.add(key)
        run = read_run(p)
        table = _flatten(config_mod.to_dict(run.config))
        loaded.append(
            CompareRun(
                Path(p),
                Path(p).resolve().name,
                run.config,
                table,
                final_metrics(run),
                run.rows,
                run.snapshots,
                run.data,
            )
        )
    return loaded


def group_runs(loaded: list[CompareRun]) -> list[Group]:
    """Runs whose configs are equal apart from ``train.seed``, in the order first seen; each group
    is labelled by the config keys that tell the groups apart."""
    groups: dict[str, list[CompareRun]] = {}
    for r in loaded:
        key = json.dumps(
            {k: v for k, v in r.table.items() if k != "train.seed"}, sort_keys=True, default=str
        )
        groups.setdefault(key, []).append(r)
    members = list(groups.values())
    firsts = [g[0].table for g in members]
    keys = sorted({k for t in firsts for k in t} - {"train.seed"})
    varying = [k for k in keys if len({json.dumps(t.get(k), default=str) for t in firsts}) > 1]
    shown = [k for k in varying if k != "description"] or varying
    out, used = [], set()
    for g in members:
        differs = {k: g[0].table.get(k) for k in shown}
        if differs:  # short: at most three keys (the page lists every difference)
            items = [f"{k.split('.')[-1]}={v}" for k, v in differs.items()]
            label = ", ".join(items[:3]) + (f" +{len(items) - 3} more" if len(items) > 3 else "")
        else:
            cfg = g[0].config
            label = cfg.preset or cfg.data.name
        base, i = label, 2
        while label in used:
            label, i = f"{base} #{i}", i + 1
        used.add(label)
        out.append(Group(label, g, differs))
    return out


def metric_keys(items: list[CompareRun]) -> list[str]:
    present = {k for r in items for k in r.metrics}
    return [k for k in FIRST if k in present] + sorted(present - set(FIRST))


def _jsonable(x):
    if isinstance(x, float):
        return _finite(x)
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def comparison(paths) -> dict:
    """The comparison as plain data (what ``gankit compare --json`` prints)."""
    loaded = load_runs(paths)
    groups = group_runs(loaded)
    return {
        "runs": [
            {"run": str(r.path), "group": g.label, "seed": r.seed, "metrics": _jsonable(r.metrics)}
            for g in groups
            for r in g.runs
        ],
        "groups": [
            {
                "group": g.label,
                "differs": _jsonable(g.differs),
                "runs": [str(r.path) for r in g.runs],
                "seeds": [r.seed for r in g.runs],
                "metrics": {k: s.as_dict() for k, s in g.stats().items()},
            }
            for g in groups
        ],
    }


def _f(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-" if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


def comparison_text(result: dict) -> str:
    """The comparison as aligned text: one table of runs, then one per group."""
    lines = []
    runs_ = result["runs"]
    keys = []
    for r in runs_:
        keys += [k for k in r["metrics"] if k not in keys]
    keys = [k for k in FIRST if k in keys] + sorted(set(keys) - set(FIRST))
    header = ["run", "group", "seed"] + keys
    table = [
        [r["run"], r["group"], str(r["seed"])]
        + [_f(r["metrics"].get(k)) if k in r["metrics"] else "" for k in keys]
        for r in runs_
    ]
    lines += _align([header] + table)
    for g in result["groups"]:
        lines.append("")
        seeds = ", ".join(str(s) for s in g["seeds"])
        lines.append(f"group {g['group']}: {len(g['runs'])} run(s), seeds {seeds}")
        rows = [["metric", "n", "mean", "std", "95% CI"]]
        for k, s in g["metrics"].items():
            lo, hi = s["ci95"]
            ci = f"[{_f(lo)}, {_f(hi)}]" if lo is not None else "-"
            n = str(s["n"]) + (f" (+{s['n_nonfinite']} inf/nan)" if s["n_nonfinite"] else "")
            rows.append([k, n, _f(s["mean"]), _f(s["std"]), ci])
        lines += ["  " + line for line in _align(rows)]
    return "\n".join(lines)


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
        ).rstrip()
        for r in rows
    ]


# ----------------------------------------------------------------------------- the page


def _curves_figure(groups: list[Group]):
    import matplotlib.pyplot as plt

    from gankit.report.html import _series

    present = [k for k in CURVE_KEYS if any(_series(r.rows, k)[0] for g in groups for r in g.runs)]
    if not present:
        return None
    cols = 2
    nrows = math.ceil(len(present) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(11, 2.7 * nrows), squeeze=False)
    for ax, key in zip(axes.ravel(), present):
        positive = True
        for gi, g in enumerate(groups):
            for ri, r in enumerate(g.runs):
                steps, values = _series(r.rows, key)
                if steps:
                    positive &= min(values) > 0
                    ax.plot(
                        steps,
                        values,
                        color=f"C{gi % 10}",
                        lw=1,
                        alpha=0.75,
                        label=g.label if ri == 0 else None,
                    )
        if key in LOG_KEYS and positive:
            ax.set_yscale("log")
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=7)
    for ax in axes.ravel()[len(present) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _samples_figure(groups: list[Group], limit: int = 16):
    import matplotlib.pyplot as plt

    from gankit.report.html import DensityFrames, load_snapshot
    from gankit.report.plots import histogram_density

    items = [(g, r) for g in groups for r in g.runs if r.snapshots][:limit]
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


def comparison_html(groups: list[Group], out_dir: Path) -> str:
    from gankit.report.html import SORT_JS, esc, img, page, png_data_uri

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
            text = _f(s.mean)
            if s.n >= 2:
                text += f" &plusmn; {_f(s.std)}<br><small>[{_f(s.ci_low)}, {_f(s.ci_high)}]</small>"
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
            report = r.path / "report.html"
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
                cells.append(f'<td data-v="{dv}">{_f(v) if v is not None else ""}</td>')
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
    parts.append(
        "<h2>Final samples</h2>"
        + (
            img(png_data_uri(samples), "final samples of each run")
            if samples is not None
            else '<p class="na">no snapshots</p>'
        )
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
    """``DIR/report.html`` comparing the runs in ``paths``; returns its path."""
    loaded = load_runs(paths)
    groups = group_runs(loaded)
    out_dir = Path(out_dir)
    text = comparison_html(groups, out_dir)
    target = out_dir / "report.html"
    runs.atomic_write_text(target, text)
    return target
