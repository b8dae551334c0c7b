"""The Dirac-GAN of Mescheder, Geiger & Nowozin (2018), "Which training methods for GANs do
actually converge?": the smallest GAN that shows why plain gradient descent fails to converge.

The data is a point mass at 0, the generator has one parameter and outputs ``theta``, the
discriminator has one parameter, ``D(x) = psi * x`` (a raw score, read through the loss of
:mod:`gankit.game.losses`). The unique equilibrium is ``(theta, psi) = (0, 0)``. Near it the
gradient vector field is a pure rotation (its Jacobian has imaginary eigenvalues), so

* simultaneous gradient descent spirals outwards (the radius grows every step),
* alternating gradient descent circles around the equilibrium (the radius stays roughly constant),
* the R1 penalty ``gamma / 2 * |dD/dx|^2`` on the data (``gamma / 2 * psi^2`` here) damps the
  rotation and both variants converge to (0, 0).

Pure torch: no trainer, no network. :func:`trajectory` returns the iterates, :func:`plot_trajectory`
draws them (over the gradient field) into a PNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.game.losses import get_loss

MODES = ("simultaneous", "alternating")


@dataclass
class DiracTrajectory:
    """Iterates ``(steps + 1, 2)`` of ``(theta, psi)`` (row 0 is the start) and the setting."""

    points: np.ndarray
    loss: str
    mode: str
    lr: float
    gamma: float

    @property
    def radii(self) -> np.ndarray:
        """Distance to the equilibrium (0, 0) after every step."""
        return np.hypot(self.points[:, 0], self.points[:, 1])


def _grads(loss, theta: float, psi: float, gamma: float) -> tuple[float, float]:
    """(d g_loss / d theta, d (d_loss + gamma/2 psi^2) / d psi) at ``(theta, psi)``."""
    t = torch.tensor(float(theta), dtype=torch.float64, requires_grad=True)
    p = torch.tensor(float(psi), dtype=torch.float64, requires_grad=True)
    real = p * torch.zeros(1, dtype=torch.float64)  # D(x) = psi * x on the data x = 0
    fake = (p * t).reshape(1)  # D(G(z)) = psi * theta
    d_loss, g_loss = loss(real, fake)
    d_loss = d_loss + 0.5 * gamma * p**2  # R1: gamma/2 * (dD/dx at x=0)^2 = gamma/2 * psi^2
    (g_theta,) = torch.autograd.grad(g_loss, t, retain_graph=True)
    (g_psi,) = torch.autograd.grad(d_loss, p)
    return float(g_theta), float(g_psi)


def trajectory(
    loss: str = "nonsaturating",
    mode: str = "simultaneous",
    steps: int = 200,
    lr: float = 0.1,
    gamma: float = 0.0,
    start: tuple[float, float] = (1.0, 1.0),
    d_steps: int = 1,
) -> DiracTrajectory:
    """Gradient descent on the Dirac-GAN from ``start = (theta, psi)``.

    ``mode='simultaneous'``: both players step from the same point. ``mode='alternating'``: D takes
    ``d_steps`` steps, then G steps against the updated D (Algorithm 1). ``gamma`` > 0 adds R1."""
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    if steps < 0 or lr <= 0 or gamma < 0:
        raise ValueError("steps must be >= 0, lr > 0 and gamma >= 0")
    fn = get_loss(loss)
    theta, psi = map(float, start)
    points = [(theta, psi)]
    for _ in range(steps):
        if mode == "simultaneous":
            g_theta, g_psi = _grads(fn, theta, psi, gamma)
            theta, psi = theta - lr * g_theta, psi - lr * g_psi
        else:
            for _ in range(d_steps):
                psi -= lr * _grads(fn, theta, psi, gamma)[1]
            theta -= lr * _grads(fn, theta, psi, gamma)[0]
        points.append((theta, psi))
    return DiracTrajectory(np.asarray(points, dtype=np.float64), loss, mode, lr, gamma)


def plot_trajectory(
    trajectories: DiracTrajectory | list[DiracTrajectory],
    path: str | Path,
    title: str | None = None,
) -> Path:
    """Draw one or more trajectories in the (theta, psi) plane, over the (negative) gradient field
    of the first one's game, into the PNG ``path``; returns the path."""
    import matplotlib.pyplot as plt

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
            g_theta, g_psi = _grads(fn, t, p, trajs[0].gamma)
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


def closed_form_mismatch(config) -> str | None:
    """Why a trained run's path cannot be compared with :func:`trajectory` (``None`` when it
    can): the closed form is plain SGD at one constant step size on the undisturbed game."""
    cfg, game, optim = config, config.game, config.optim
    checks = [
        (cfg.model.arch == "dirac" and cfg.data.name == "dirac", "not the Dirac-GAN's nets/toy"),
        (float(cfg.data.params.get("at", 0.0)) == 0.0, "the point mass is not at 0"),
        (optim.name == "sgd" and optim.momentum == 0.0, "the optimizer is not plain SGD"),
        (optim.schedule == "constant" and optim.lr_d == optim.lr_g, "the step size varies"),
        (set(game.penalties) <= {"r1"}, "a penalty other than R1"),
        (
            not (game.label_smoothing or game.instance_noise or game.unroll),
            "label smoothing, instance noise or unrolling change the game",
        ),
    ]
    return next((why for ok, why in checks if not ok), None)


def run_trajectories(rows: list[dict], config) -> tuple[list[DiracTrajectory], list[str], str]:
    """A trained run's ``(theta, psi)`` path (from the ``theta`` / ``psi`` its trainer logged,
    after its start :func:`gankit.nets.dirac.dirac_start`) and, where the setting allows, the
    closed-form iteration from the same start: ``(trajectories, labels, note)``; no path when the
    rows hold no ``theta``/``psi``."""
    from gankit.nets.dirac import dirac_start

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
