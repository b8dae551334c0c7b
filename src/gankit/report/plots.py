"""Matplotlib figures of a run, read only from its directory: density, curves, snapshots."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from gankit import runs  # noqa: E402

PLOT_SAMPLES = 100_000


def histogram_density(samples: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Density of ``samples`` on the bins ``edges`` (a histogram normalised to integrate to 1
    over the samples that fall inside)."""
    counts, _ = np.histogram(samples, bins=edges)
    widths = np.diff(edges)
    return counts / max(len(samples), 1) / widths


def optimal_discriminator(p_data: np.ndarray, p_model: np.ndarray) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g) (Goodfellow et al. 2014, Proposition 1); NaN where both
    densities vanish."""
    total = p_data + p_model
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / total, np.nan)


def density_figure(run) -> plt.Figure:
    """1-D: G's histogram over the true density, and learned D beside D*. 2-D: samples over the
    true density's contours."""
    samples = run.sample(PLOT_SAMPLES, seed=1).numpy()
    data = run.data
    if data.dim == 1:
        lo, hi = data.support()
        edges = np.linspace(lo, hi, 121)
        centres = 0.5 * (edges[1:] + edges[:-1])
        grid = np.linspace(lo, hi, 400)
        p_data = np.exp(data.log_prob(torch.from_numpy(grid)).numpy())
        p_model_bins = histogram_density(samples[:, 0], edges)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        # over all samples (not only those inside the axes): mass G puts outside is missing
        ax1.stairs(p_model_bins, edges, fill=True, alpha=0.5, label="G(z) samples")
        ax1.plot(grid, p_data, "k", lw=2, label="p_data (true)")
        ax1.set_title(f"samples at step {run.step}")
        ax1.set_xlabel("x")
        ax1.legend()
        p_data_bins = np.exp(data.log_prob(torch.from_numpy(centres)).numpy())
        d_star = optimal_discriminator(p_data_bins, p_model_bins)
        from gankit.game.losses import d_readout, get_loss

        loss = get_loss(run.config.game.loss)
        # A D that judges sets (minibatch layers, moments) has no score of a single point.
        pointwise = getattr(run.discriminator, "pointwise", True)
        if pointwise:
            with torch.no_grad():
                scores = run.discriminator(torch.from_numpy(grid).float().unsqueeze(1))
            learned = d_readout(loss, scores.reshape(-1)).numpy()
        if not pointwise:
            ax2.plot(centres, d_star, "--", label="D* = p_data / (p_data + p_g)")
            ax2.set_ylim(-0.02, 1.02)
            ax2.text(
                0.5,
                0.1,
                "this D judges sets, not points:\nno D(x) to draw",
                transform=ax2.transAxes,
                ha="center",
            )
        elif loss.probabilities:
            ax2.plot(grid, learned, label="learned D(x)")
            ax2.plot(centres, d_star, "--", label="D* = p_data / (p_data + p_g)")
            ax2.axhline(0.5, color="grey", lw=0.5)
            ax2.set_ylim(-0.02, 1.02)
        else:
            ax2.plot(grid, learned, label=f"critic score ({loss.name})")
            twin = ax2.twinx()
            twin.plot(centres, d_star, "--", color="C1", label="D* = p_data / (p_data + p_g)")
            twin.set_ylim(-0.02, 1.02)
            twin.legend(loc="lower right")
        ax2.set_title("discriminator")
        ax2.set_xlabel("x")
        ax2.legend(loc="upper left")
        fig.tight_layout()
        return fig
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    shown = samples[:5000]
    lo = np.minimum(shown.min(0), -1.0) - 0.5
    hi = np.maximum(shown.max(0), 1.0) + 0.5
    modes = data.modes
    if modes is not None:
        m = modes.numpy()
        lo, hi = np.minimum(lo, m.min(0) - 0.5), np.maximum(hi, m.max(0) + 0.5)
    xs, ys = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    pts = torch.from_numpy(np.stack([xs.ravel(), ys.ravel()], 1))
    logp = data.log_prob(pts).numpy().reshape(xs.shape)
    ax.contour(xs, ys, np.exp(logp), levels=6, cmap="Greys")
    ax.scatter(shown[:, 0], shown[:, 1], s=2, alpha=0.4, label="G(z)")
    ax.set_title(f"samples at step {run.step}")
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


CURVE_PANELS = (
    ("losses", ("d_loss", "g_loss")),
    ("discriminator outputs", ("d_real", "d_fake")),
    ("gradient norms", ("grad_norm_d", "grad_norm_g")),
    ("divergence to the data", ("jsd", "kl_data_model", "w1", "ks")),
)


def curves_figure(rows: list[dict]) -> plt.Figure:
    """Losses, D(x) and D(G(z)), gradient norms and the divergences over steps."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for ax, (title, keys) in zip(axes.ravel(), CURVE_PANELS):
        for key in keys:
            pts = [
                (r["step"], r[key])
                for r in rows
                if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])
            ]
            if pts:
                steps, values = zip(*pts)
                ax.plot(steps, values, label=key, marker="." if len(pts) < 60 else None)
        if title in ("gradient norms", "divergence to the data") and ax.lines:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("step")
        if ax.lines:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_run_plots(run_dir: Path) -> list[Path]:
    """``RUN/density.png`` and ``RUN/curves.png``."""
    from gankit.api import load_run

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    written = []
    for name, fig in (
        ("density.png", density_figure(run)),
        ("curves.png", curves_figure(runs.read_metrics(run_dir))),
    ):
        tmp = run_dir / f".{name}.tmp.png"
        fig.savefig(tmp, dpi=100)
        plt.close(fig)
        tmp.replace(run_dir / name)
        written.append(run_dir / name)
    return written
