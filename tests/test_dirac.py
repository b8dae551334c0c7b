"""Dirac-GAN (Mescheder et al. 2018): simultaneous GD spirals out, alternating GD circles, R1
converges."""

import numpy as np
import pytest

from gankit.game.dirac import trajectory
from gankit.report.dirac import plot_trajectory

START = (0.3, 0.3)


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "wasserstein"])
def test_simultaneous_spirals_out(loss):
    r = trajectory(loss, "simultaneous", steps=500, lr=0.2, start=START).radii
    assert r[-1] > 1.4 * r[0]
    assert r[250] > r[0]


@pytest.mark.parametrize("loss", ["minimax", "wasserstein"])
def test_alternating_circles(loss):
    r = trajectory(loss, "alternating", steps=500, lr=0.2, start=START).radii
    assert np.all(r > 0.85 * r[0]) and np.all(r < 1.15 * r[0])


def test_alternating_nonsaturating_stays_bounded():
    r = trajectory("nonsaturating", "alternating", steps=500, lr=0.2, start=START).radii
    assert r.max() <= r[0] * 1.05  # does not spiral out like simultaneous GD
    assert r[-1] > 0.2 * r[0]  # nor converge: it keeps circling (slowly drifting inwards)


@pytest.mark.parametrize("mode", ["simultaneous", "alternating"])
@pytest.mark.parametrize("loss", ["nonsaturating", "minimax"])
def test_r1_converges(loss, mode):
    r = trajectory(loss, mode, steps=500, lr=0.2, gamma=1.0, start=START).radii
    assert r[-1] < 1e-3 * r[0]


def test_trajectory_shape_and_start():
    t = trajectory(steps=10, start=(1.0, -0.5))
    assert t.points.shape == (11, 2)
    assert tuple(t.points[0]) == (1.0, -0.5)


def test_bad_mode():
    with pytest.raises(ValueError):
        trajectory(mode="sideways")


def test_plot(tmp_path):
    trajs = [
        trajectory(mode="simultaneous", steps=100),
        trajectory(mode="alternating", steps=100),
        trajectory(gamma=1.0, steps=100),
    ]
    path = plot_trajectory(trajs, tmp_path / "dirac.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
