"""The sections of a toy run's ``RUN/report.html``: the Dirac-GAN's path in parameter space
(for the nets that log their parameters) and the density's evolution from ``RUN/snapshots/``
(1-D: G's histogram over the true density and the learned D beside the estimate of D*; 2-D:
samples over the true density's contours), as a few frames and as an animation.
"""

from __future__ import annotations

from gankit.report.dirac import run_trajectories, trajectory_figure
from gankit.report.figures import DensityFrames, pick_evenly, png_data_uri
from gankit.report.htmlkit import esc, img, player_html
from gankit.report.readers import RunFiles, load_snapshot

MAX_FRAMES = 12  # animation frames (evenly spread over the snapshots, the last always kept)
STATIC_FRAMES = 4  # frames shown side by side


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


def toy_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the toy sections, in the page's order."""
    out = []
    params = parameter_space_html(run)
    if params is not None:
        out.append(("parameters", "Parameter space", params))
    out.append(("density", "Density evolution", evolution_html(run)))
    return out
