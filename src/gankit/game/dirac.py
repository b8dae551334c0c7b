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

Pure torch: no trainer, no network. :func:`trajectory` returns the iterates;
`gankit.report.dirac` draws them over the gradient field and beside a trained run's path.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def grads(loss, theta: float, psi: float, gamma: float) -> tuple[float, float]:
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
            g_theta, g_psi = grads(fn, theta, psi, gamma)
            theta, psi = theta - lr * g_theta, psi - lr * g_psi
        else:
            for _ in range(d_steps):
                psi -= lr * grads(fn, theta, psi, gamma)[1]
            theta -= lr * grads(fn, theta, psi, gamma)[0]
        points.append((theta, psi))
    return DiracTrajectory(np.asarray(points, dtype=np.float64), loss, mode, lr, gamma)


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
