"""The report's figures, drawn from a run's plain files: curves over steps with the diagnosed
failures shaded (one table of panels for toy and image runs, `CURVE_PANELS`; an image run's
metrics are logged per feature space, ``fid_digits``, `split_spaced`), and the density's
evolution (1-D: G's histogram over the true density, the learned D beside
D* = p_data / (p_data + p_g); 2-D: samples over the density's contours).
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

DPI = 72
FAIL_COLOURS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")


def histogram_density(samples: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Density of ``samples`` on the bins ``edges`` (a histogram normalised over all the
    samples, so that mass outside the bins is missing rather than spread over them)."""
    counts, _ = np.histogram(samples, bins=edges)
    widths = np.diff(edges)
    return counts / max(len(samples), 1) / widths


def optimal_discriminator(p_data: np.ndarray, p_model: np.ndarray) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g) (Goodfellow et al. 2014, Proposition 1); NaN where both
    densities vanish."""
    total = p_data + p_model
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / total, np.nan)


def png_data_uri(fig: plt.Figure, dpi: int = DPI, close: bool = True) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (no metadata, no link inside)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    if close:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
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


@dataclass(frozen=True)
class Curve:
    """One curve of a panel. ``key``: the logged key, or with ``spaced`` the base of keys logged
    as ``f"{key}_{S}"`` in a feature space S (`docs/image-runs.md`), one curve per S.
    ``reference``: a reference level (the real data's own score), drawn dashed and never drawn
    alone. ``spread``: the (equally spaced) key of its standard deviation, a band of +- 1 std.
    ``twin``: on a second y-axis beside the panel's first curve."""

    key: str
    spaced: bool = False
    reference: bool = False
    spread: str | None = None
    twin: bool = False


@dataclass(frozen=True)
class Panel:
    """One panel of curves; ``log``: a log y-axis where every value is positive; ``level``: a
    horizontal line (labelled ``level_label``)."""

    title: str
    curves: tuple[Curve, ...]
    log: bool = False
    level: float | None = None
    level_label: str = ""


def _curves(*keys: str, **kw) -> tuple[Curve, ...]:
    return tuple(Curve(k, **kw) for k in keys)


#: the one table of curves over steps, for toy and image runs alike: the run page, the final
#: ``curves.png`` and (key by key) the comparison page draw the panels whose keys were logged
CURVE_PANELS = (
    Panel("losses", _curves("d_loss", "g_loss")),
    Panel("D(x) and D(G(z))", _curves("d_real", "d_fake")),
    Panel("gradient norms", _curves("grad_norm_d", "grad_norm_g"), log=True),
    Panel("learning rates", _curves("lr_d", "lr_g")),
    Panel(
        "divergences to the data",
        _curves("jsd", "kl_data_model", "kl_model_data", "w1", "ks"),
        log=True,
    ),
    Panel("modes", (Curve("modes_covered"), Curve("high_quality", twin=True))),
    Panel(
        "FID (band: +- its sampling std; dashed: the real data's floor)",
        (
            Curve("fid", spaced=True, spread="fid_std"),
            Curve("fid_floor", spaced=True, reference=True),
        ),
        log=True,
    ),
    Panel(
        "KID (band: +- 1 std over subsets; dashed: the real data's floor)",
        (
            Curve("kid", spaced=True, spread="kid_std"),
            Curve("kid_floor", spaced=True, reference=True),
        ),
    ),
    Panel("precision and recall", _curves("precision", "recall", spaced=True)),
    Panel("density and coverage", _curves("density", "coverage", spaced=True)),
    Panel("inception score", (Curve("is", spaced=True, spread="is_std"),)),
    Panel(
        "class share / uniform share",
        _curves("class_ratio_min", "class_ratio_max"),
        level=1.0,
        level_label="uniform",
    ),
    Panel(
        "class agreement: samples read as the class G was asked for",
        _curves("class_agreement"),
        level=1.0,
        level_label="all",
    ),
    Panel(
        "D on training, held-out and generated data",
        (*_curves("d_train", "d_heldout", "d_gen"), Curve("d_overfit", twin=True)),
    ),
    Panel(
        "semi-supervised D: accuracy on the labelled minibatch and the held-out split",
        _curves("labelled_accuracy", "heldout_accuracy"),
        level=1.0,
        level_label="all",
    ),
    Panel(
        "InfoGAN: matched class accuracy of the code and of Q",
        _curves("code_class_accuracy", "q_heldout_accuracy"),
        level=1.0,
        level_label="all",
    ),
)

#: an image run's metrics per feature space, by base (``fid`` for ``fid_digits``;
#: `docs/image-runs.md`), in the order the tables list them, final-only ones included
SPACED_METRICS = (
    "fid",
    "fid_mean",
    "fid_draws_std",
    "fid_floor",
    "kid",
    "kid_floor",
    "kid_std",
    "precision",
    "recall",
    "density",
    "coverage",
    "is",
    "is_std",
    "one_nn_accuracy",
    "nn_ratio",
    "nn_train_distance",
    "nn_heldout_distance",
)
#: the bases of keys logged per feature space: the curves' and `SPACED_METRICS`
SPACED_BASES = frozenset(
    base
    for panel in CURVE_PANELS
    for c in panel.curves
    for base in ((c.key, c.spread) if c.spread else (c.key,))
    if c.spaced
) | frozenset(SPACED_METRICS)


def split_spaced(key: str) -> tuple[str, str] | None:
    """``(base, S)`` of a key logged in feature space S (``fid_floor_digits`` -> ``("fid_floor",
    "digits")``: the longest base wins), None for any other key."""
    bases = [b for b in SPACED_BASES if key.startswith(b + "_") and len(key) > len(b) + 1]
    if not bases:
        return None
    base = max(bases, key=len)
    return base, key[len(base) + 1 :]


def feature_spaces(keys) -> list[str]:
    """The feature spaces named by ``keys`` (sorted)."""
    return sorted({split[1] for k in keys if (split := split_spaced(k))})


def logged_keys(rows: list[dict]) -> set[str]:
    """Every key of every row."""
    return {k for r in rows for k in r}


def panel_keys(panel: Panel, keys) -> list[tuple[Curve, str, str]]:
    """``(curve, key, S)`` for each of ``panel``'s curves logged under a key in ``keys``, in the
    table's order (S: ``""`` for keys without a feature space)."""
    spaced: dict[str, list[str]] = {}
    for k in keys:
        split = split_spaced(k)
        if split:
            spaced.setdefault(split[0], []).append(split[1])
    out = []
    for c in panel.curves:
        if c.spaced:
            out += [(c, f"{c.key}_{s}", s) for s in sorted(spaced.get(c.key, ()))]
        elif c.key in keys:
            out.append((c, c.key, ""))
    return out


def spread_key(curve: Curve, space: str) -> str | None:
    if not curve.spread:
        return None
    return f"{curve.spread}_{space}" if curve.spaced else curve.spread


def key_panels(keys) -> list[tuple[str, list[str], bool]]:
    """The comparison page's panels, one per logged key of the table (references excluded):
    ``(key, [its panel's reference keys in the same feature space], log)``."""
    out = []
    for panel in CURVE_PANELS:
        found = panel_keys(panel, keys)
        for curve, key, space in found:
            if not curve.reference:
                refs = [k for c, k, s in found if c.reference and s == space]
                out.append((key, refs, panel.log))
    return out


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


def curve_panels(rows: list[dict]) -> list[tuple[Panel, list[tuple[Curve, str, str, list, list]]]]:
    """The panels of `CURVE_PANELS` that ``rows`` logged a curve of (a reference alone draws
    no panel), each with its curves ``(curve, key, S, steps, values)``."""
    present = logged_keys(rows)
    panels = []
    for panel in CURVE_PANELS:
        drawn = [(c, k, s, *series(rows, k)) for c, k, s in panel_keys(panel, present)]
        drawn = [d for d in drawn if d[3]]
        if any(not d[0].reference for d in drawn):
            panels.append((panel, drawn))
    return panels


def curves_figure(rows: list[dict], failures: list[dict]) -> plt.Figure | None:
    """The panels of `curve_panels`, failures shaded; None when there is none."""
    panels = curve_panels(rows)
    if not panels:
        return None
    cols = 2
    nrows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(11, 3.0 * nrows), squeeze=False)
    for ax, (panel, drawn) in zip(axes.ravel(), panels):
        twin = None
        spaces = sorted({s for _, _, s, _, _ in drawn if s})
        colour_of: dict[str, str] = {}
        for i, (curve, key, space, steps, values) in enumerate(drawn):
            target = ax
            if curve.twin and i > 0:  # a second scale beside the first curve's
                if twin is None:
                    twin = ax.twinx()
                    twin.tick_params(labelsize=8)
                target = twin
                target.set_ylabel(key, fontsize=8)
                if all(0 <= v <= 1 for v in values):
                    target.set_ylim(-0.02, 1.02)
            if curve.reference:  # dashed, in the colour of its feature space's first curve
                colour = colour_of.get(space, "k")
            else:
                colour = f"C{i % 10}"
                colour_of.setdefault(space, colour)
            target.plot(
                steps,
                values,
                label=key + (" (real data)" if curve.reference else ""),
                lw=1.0 if curve.reference else 1.2,
                ls="--" if curve.reference else "-",
                color=colour,
                marker="." if len(steps) < 40 and not curve.reference else None,
            )
            spread = spread_key(curve, space)
            if spread:
                std = dict(zip(*series(rows, spread)))
                at = [(st, v, std[st]) for st, v in zip(steps, values) if st in std]
                if at:
                    xs, mid, sd = (np.array(a, dtype=float) for a in zip(*at))
                    target.fill_between(xs, mid - sd, mid + sd, color=colour, alpha=0.2, lw=0)
        on_ax = [v for d in drawn if not d[0].twin or d is drawn[0] for v in d[4]]
        if panel.log and on_ax and all(v > 0 for v in on_ax):
            ax.set_yscale("log")
        if panel.level is not None:
            ax.axhline(panel.level, color="grey", lw=0.8, ls=":", label=panel.level_label or None)
        shade_failures(ax, failures, label=True)
        ax.set_title(panel.title + (f" [{', '.join(spaces)}]" if spaces else ""), fontsize=10)
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


def true_density_1d(data, grid: np.ndarray) -> np.ndarray:
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
            self.p_data = true_density_1d(data, self.grid)
            self.p_data_bins = true_density_1d(data, self.centres)
            peak = self.p_data.max()
            for _, s in snaps:
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
