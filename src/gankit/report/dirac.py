"""The Dirac-GAN's figures (Mescheder et al. 2018): iterates in the (theta, psi) plane over the
game's negative gradient field, and a trained run's logged path beside the closed-form iteration
of the same game (`gankit.game.dirac.trajectory`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gankit.game.dirac import (  # noqa: E402
    DiracTrajectory,
    closed_form_mismatch,
    grads,
    trajectory,
)
from gankit.game.losses import get_loss  # noqa: E402
from gankit.nets.dirac import dirac_start  # noqa: E402


def plot_trajectory(
    trajectories: DiracTrajectory | list[DiracTrajectory],
    path: str | Path,
    title: str | None = None,
) -> Path:
    """Draw one or more trajectories in the (theta, psi) plane, over the (negative) gradient field
    of the first one's game, into the PNG ``path``; returns the path."""
    fig = trajectory_figure(trajectories, title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def trajectory_figure(
    trajectories: DiracTrajectory | list[DiracTrajectory],
    title: str | None = None,
    labels: list[str] | None = None,
    styles: list[str] | None = None,
):
    """The figure of :func:`plot_trajectory` (a matplotlib ``Figure``, left open); ``labels``
    replace the default "mode, loss" legend entries, ``styles`` the solid lines."""
    trajs = [trajectories] if isinstance(trajectories, DiracTrajectory) else list(trajectories)
    if not trajs:
        raise ValueError("plot_trajectory: no trajectory to draw")
    pts = np.concatenate([t.points[np.isfinite(t.points).all(1)] for t in trajs])
    span = max(1.0, float(np.abs(pts).max()) * 1.1) if len(pts) else 1.0
    fig, ax = plt.subplots(figsize=(5, 5))
    grid = np.linspace(-span, span, 15)
    fn = get_loss(trajs[0].loss)
    u = np.zeros((grid.size, grid.size))
    v = np.zeros_like(u)
    for i, p in enumerate(grid):
        for j, t in enumerate(grid):
            g_theta, g_psi = grads(fn, t, p, trajs[0].gamma)
            u[i, j], v[i, j] = -g_theta, -g_psi
    ax.quiver(grid, grid, u, v, color="0.75", angles="xy")
    for i, t in enumerate(trajs):
        r1 = f", R1 gamma={t.gamma:g}" if t.gamma else ""
        label = labels[i] if labels else f"{t.mode}, {t.loss}{r1}"
        style = styles[i] if styles else "-"
        ax.plot(t.points[:, 0], t.points[:, 1], style, lw=1.2 if style == "-" else 2, label=label)
        ax.plot(*t.points[0], "ko", ms=4)
    ax.plot(0, 0, "r*", ms=10, label="equilibrium")
    ax.set_xlabel(r"$\theta$ (generator)")
    ax.set_ylabel(r"$\psi$ (discriminator)")
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(title or "Dirac-GAN (Mescheder et al. 2018)")
    return fig


def run_trajectories(rows: list[dict], config) -> tuple[list[DiracTrajectory], list[str], str]:
    """A trained run's ``(theta, psi)`` path (from the ``theta`` / ``psi`` its trainer logged,
    after its start :func:`gankit.nets.dirac.dirac_start`) and, where the setting allows, the
    closed-form iteration from the same start: ``(trajectories, labels, note)``; no path when the
    rows hold no ``theta``/``psi``."""
    logged = [
        (r["step"], r["theta"], r["psi"])
        for r in rows
        if all(isinstance(r.get(k), (int, float)) for k in ("step", "theta", "psi"))
    ]
    if not logged:
        return [], [], "the run logged no theta/psi"
    start = dirac_start(config.train.seed)
    points = np.asarray([start] + [(t, p) for _, t, p in logged], dtype=np.float64)
    gamma = 2.0 * float(config.game.penalties.get("r1", 0.0))  # R1 weight = gamma / 2
    loss, lr = config.game.loss, float(config.optim.lr_d)
    trained = DiracTrajectory(points, loss, "alternating", lr, gamma)
    trajs, labels = [trained], [f"this run (logged every {config.log.every} steps)"]
    why = closed_form_mismatch(config)
    if why is None:
        exact = trajectory(
            loss, "alternating", logged[-1][0], lr, gamma, start, config.game.d_steps
        )
        trajs.append(exact)
        labels.append("closed form, the same game")
        gap = float(np.abs(exact.points[[s for s, _, _ in logged]] - points[1:]).max())
        note = f"largest gap between the run and the closed form: {gap:.2g}"
    else:
        note = f"no closed form drawn: {why}"
    return trajs, labels, note
