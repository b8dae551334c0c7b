"""``RUN/density.png`` and ``RUN/curves.png``: the final density of a toy run, and the curves
of any run (toy or image).

The curves come from ``RUN/metrics.jsonl`` (the same panels as the report's,
`gankit.report.figures.CURVE_PANELS`). The density
needs the trained model's samples and D's read-out, which only the layers that load models can
give: the caller passes them in (`gankit.recipes.finish`), so this module reads no checkpoint.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from gankit import runs  # noqa: E402
from gankit.report.figures import (  # noqa: E402
    curves_figure,
    histogram_density,
    optimal_discriminator,
)

Readout = Callable[[np.ndarray], "np.ndarray | None"]


def density_figure(
    distribution,
    samples: np.ndarray,
    step: int,
    readout: Readout,
    probabilities: bool,
    loss_name: str,
) -> plt.Figure:
    """1-D: G's histogram over the true density, and the learned D beside D*. 2-D: samples
    over the true density's contours. ``samples``: ``(n, dim)``; ``readout(grid (g,)) ->
    (g,)`` D's read-out on points (probabilities when ``probabilities``), or None for a D that
    judges sets, not points."""
    data = distribution
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
        ax1.set_title(f"samples at step {step}")
        ax1.set_xlabel("x")
        ax1.legend()
        p_data_bins = np.exp(data.log_prob(torch.from_numpy(centres)).numpy())
        d_star = optimal_discriminator(p_data_bins, p_model_bins)
        learned = readout(grid)
        if learned is None:
            ax2.plot(centres, d_star, "--", label="D* = p_data / (p_data + p_g)")
            ax2.set_ylim(-0.02, 1.02)
            ax2.text(
                0.5,
                0.1,
                "this D judges sets, not points:\nno D(x) to draw",
                transform=ax2.transAxes,
                ha="center",
            )
        elif probabilities:
            ax2.plot(grid, learned, label="learned D(x)")
            ax2.plot(centres, d_star, "--", label="D* = p_data / (p_data + p_g)")
            ax2.axhline(0.5, color="grey", lw=0.5)
            ax2.set_ylim(-0.02, 1.02)
        else:
            ax2.plot(grid, learned, label=f"critic score ({loss_name})")
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
    ax.set_title(f"samples at step {step}")
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def save_figure(fig: plt.Figure, path: Path, dpi: int = 100) -> Path:
    """Save ``fig`` as a PNG atomically (`gankit.runs.atomic_write_bytes`: a failure names
    ``path`` and leaves what it held) and close it."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    runs.atomic_write_bytes(path, buffer.getvalue())
    return path


def write_run_plots(run_dir: Path, density: plt.Figure | None = None) -> list[Path]:
    """``RUN/curves.png`` (from ``metrics.jsonl``) and, where given, ``RUN/density.png``."""
    run_dir = Path(run_dir)
    written = []
    if density is not None:
        written.append(save_figure(density, run_dir / "density.png"))
    curves = curves_figure(runs.read_metrics(run_dir), [])
    if curves is not None:
        written.append(save_figure(curves, run_dir / "curves.png"))
    return written
