"""Comparing runs: groups of seeds, mean +- std and 95% t-intervals (the page:
`gankit.report.compare_page`).

Runs whose resolved configs differ only in ``train.seed`` form a group. For each metric of the
final evaluation (``RUN/final_metrics.json``; the last evaluated line of ``RUN/metrics.jsonl``
for a run that has not finished) a group reports n, the mean, the sample standard deviation
(ddof = 1) and the 95% confidence interval of the mean, mean +- t(0.975, n - 1) * std / sqrt(n)
(Student's t, `scipy.stats.t`). Non-finite values (an infinite KL is a true value) are left out
of the statistics and counted in ``n_nonfinite``; with fewer than 2 finite values std and the
interval are NaN (``null`` in JSON).

Beside the final metrics each run gets ``train_seconds`` (`training_seconds`: its fit's
wall-clock less the evaluations and snapshots inside it), and whatever a caller measured of it
(``gankit compare --speed``: samples per second, from the loaded model). Groups that differ in
their preset are labelled by it, so a table of families reads ``vae-digits``, ``digits``, ...
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from gankit import config as config_mod
from gankit import runs
from gankit.errors import GankitError
from gankit.report.figures import SPACED_METRICS, split_spaced
from gankit.report.readers import read_run

NOT_METRICS = {
    *runs.WALL_CLOCK_KEYS,
    "step",
    "samples",
    "event",
    "n_modes",
    "w1_floor",
    "n_classes",
}
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
#: what a run cost rather than how good it is: the tables' last columns
LAST = ("train_seconds", "samples_per_second")


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
    kind: str = "toy"
    grids: list = field(default_factory=list)

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


def training_seconds(rows: list[dict]) -> float | None:
    """A run's training wall-clock from its ``metrics.jsonl`` rows: the last row's ``time``
    (seconds since the fit started) less every row's ``eval_seconds`` and ``snapshot_seconds``
    (the periodic evaluations and snapshots, which a family's budget does not buy); None
    without a timed row."""
    timed = [r["time"] for r in rows if isinstance(r.get("time"), (int, float))]
    if not timed:
        return None
    spent = sum(
        float(r.get(key) or 0.0) for r in rows for key in ("eval_seconds", "snapshot_seconds")
    )
    return max(0.0, float(timed[-1]) - spent)


def final_metrics(run) -> dict:
    """``final_metrics.json``, else the metrics of the last evaluated line of ``metrics.jsonl``."""
    if run.final:
        source = run.final
    else:
        source = {}
        for row in run.rows:
            if any(k in row for k in ("jsd", "w1", "ks", "modes_covered")) or any(
                (split := split_spaced(k)) and split[0] == "fid" for k in row
            ):
                source = row
    return {
        k: float(v)
        for k, v in source.items()
        if k not in NOT_METRICS and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def load_runs(paths) -> list[CompareRun]:
    """Each run directory of ``paths`` read for comparison (a caller that measures more metrics
    per run, such as ``compare --speed``, adds them to each run's ``metrics``)."""
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
        metrics = final_metrics(run)
        seconds = training_seconds(run.rows)
        if seconds is not None:
            metrics["train_seconds"] = seconds
        loaded.append(
            CompareRun(
                Path(p),
                Path(p).resolve().name,
                run.config,
                table,
                metrics,
                run.rows,
                run.snapshots,
                run.data,
                kind=run.kind,
                grids=run.grids,
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
    presets = [t.get("preset") for t in firsts]
    by_preset = len(members) > 1 and None not in presets and len(set(presets)) == len(presets)
    out, used = [], set()
    for g in members:
        differs = {k: g[0].table.get(k) for k in shown}
        if by_preset:  # one group per preset: its name says what the keys would
            label = g[0].config.preset
        elif differs:  # short: at most three keys (the page lists every difference)
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


def order_keys(keys) -> list[str]:
    """Metric keys in the tables' order: `FIRST`, then an image run's by `SPACED_METRICS`
    (feature spaces apart by name), then the rest by name."""

    def rank(key: str) -> tuple:
        if key in LAST:
            return (3, "", LAST.index(key))
        if key in FIRST:
            return (0, FIRST.index(key), "")
        split = split_spaced(key)
        if split and split[0] in SPACED_METRICS:
            return (1, split[1], SPACED_METRICS.index(split[0]))
        return (2, key, 0)

    return sorted(set(keys), key=rank)


def metric_keys(items: list[CompareRun]) -> list[str]:
    return order_keys(k for r in items for k in r.metrics)


def _jsonable(x):
    if isinstance(x, float):
        return _finite(x)
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def check_metric_keys(loaded: list[CompareRun], keys: list[str], measured=()) -> None:
    """`GankitError` naming any of ``keys`` that no run has and the caller does not measure
    (``measured``: keys it will add, e.g. ``samples_per_second``)."""
    known = {k for r in loaded for k in r.metrics} | set(measured)
    missing = [k for k in keys if k not in known]
    if missing:
        have = ", ".join(order_keys(known))
        raise GankitError(f"--metrics: no run has {', '.join(missing)} (they have: {have})")


def select_metrics(loaded: list[CompareRun], keys: list[str]) -> None:
    """Keep only ``keys`` of each run's metrics; `GankitError` naming any key no run has."""
    check_metric_keys(loaded, keys)
    for r in loaded:
        r.metrics = {k: r.metrics[k] for k in keys if k in r.metrics}


def comparison(paths, keys: list[str] | None = None) -> dict:
    """The comparison of the run directories ``paths`` as plain data (`comparison_of`)."""
    return comparison_of(load_runs(paths), keys)


def comparison_of(loaded: list[CompareRun], keys: list[str] | None = None) -> dict:
    """The comparison of runs read by `load_runs` as plain data (what ``gankit compare --json``
    prints); ``keys``: only these metrics, in this order."""
    if keys:
        select_metrics(loaded, keys)
    groups = group_runs(loaded)
    return {
        "keys": keys or metric_keys(loaded),
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


def fmt_stat(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-" if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


def fmt_spread(std: float, mean: float | None) -> str:
    """A standard deviation to two significant digits; 0 where it is rounding noise (below
    1e-9 of the mean: a deterministic model's seeds)."""
    if mean is not None and abs(std) <= 1e-9 * abs(mean):
        return "0"
    return f"{std:.2g}"


def comparison_text(result: dict) -> str:
    """The comparison as aligned text: one table of runs, then one per group."""
    lines = []
    runs_ = result["runs"]
    keys = []
    for r in runs_:
        keys += [k for k in r["metrics"] if k not in keys]
    keys = order_keys(keys)
    header = ["run", "group", "seed"] + keys
    table = [
        [r["run"], r["group"], str(r["seed"])]
        + [fmt_stat(r["metrics"].get(k)) if k in r["metrics"] else "" for k in keys]
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
            ci = f"[{fmt_stat(lo)}, {fmt_stat(hi)}]" if lo is not None else "-"
            n = str(s["n"]) + (f" (+{s['n_nonfinite']} inf/nan)" if s["n_nonfinite"] else "")
            rows.append([k, n, fmt_stat(s["mean"]), fmt_stat(s["std"]), ci])
        lines += ["  " + line for line in _align(rows)]
    return "\n".join(lines)


def comparison_markdown(result: dict, keys: list[str] | None = None) -> str:
    """The groups as one markdown table: a row per group, its seeds, and per metric (``keys``,
    default all) the mean +- the standard deviation over its seeds (the mean alone for one
    seed); a metric no run of a group has reads ``-``, one no group has is left out."""
    present = {k for g in result["groups"] for k in g["metrics"]}
    keys = [k for k in keys or result["keys"] if k in present]
    lines = [
        "| model | seeds | " + " | ".join(keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    for g in result["groups"]:
        cells = []
        for k in keys:
            s = g["metrics"].get(k)
            if s is None or s["n"] == 0:
                cells.append("-")
            elif s["std"] is None:
                cells.append(fmt_stat(s["mean"]))
            else:
                cells.append(f"{fmt_stat(s['mean'])} ± {fmt_spread(s['std'], s['mean'])}")
        seeds = ",".join(str(x) for x in g["seeds"])
        lines.append(f"| {g['group']} | {seeds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
        ).rstrip()
        for r in rows
    ]
