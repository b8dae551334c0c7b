"""``RUN/report.html``: one self-contained page built only from a run directory's files.

Every image is a PNG inlined as a base64 data URI, the CSS is inline, the one script (the
density animation's player) is inline: the page makes no network request and opens offline.

Sections: the resolved config and the command that reproduces it; the diagnosis
(``RUN/diagnosis.json``); the final metrics (``RUN/final_metrics.json``); curves over steps
(losses, D(x)/D(G(z)), gradient norms, learning rates, divergences, mode metrics) with the
diagnosed failures' step ranges shaded; the density's evolution from ``RUN/snapshots/`` (1-D: G's
histogram over the true density and the learned D beside the estimate of D*; 2-D: samples over
the true density's contours), as a few frames and as an animation.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from gankit import runs
from gankit.report.dirac import run_trajectories, trajectory_figure
from gankit.report.figures import (
    FAIL_COLOURS,
    DensityFrames,
    curves_figure,
    pick_evenly,
    png_data_uri,
)
from gankit.report.htmlkit import PLAYER_JS, esc, img, metrics_table, page, player_html
from gankit.report.readers import RunFiles, failures_of, load_snapshot, read_run
from gankit.report.tensorboard import write_tensorboard

MAX_FRAMES = 12  # animation frames (evenly spread over the snapshots, the last always kept)
STATIC_FRAMES = 4  # frames shown side by side


def diagnosis_html(run: RunFiles) -> str:
    if run.diagnosis_error:
        return f'<p class="na">diagnosis could not be read: {esc(run.diagnosis_error)}</p>'
    if run.diagnosis is None:
        return '<p class="na">diagnosis not run (no diagnosis.json in the run directory)</p>'
    failures = failures_of(run)
    summary = run.diagnosis.get("summary")
    if not failures:
        return (
            '<p class="ok">no failure detected'
            + (f"<br><small>{esc(summary)}</small>" if isinstance(summary, str) else "")
            + "</p>"
        )
    parts = []
    for i, f in enumerate(failures):
        colour = FAIL_COLOURS[i % len(FAIL_COLOURS)]
        first, last = f.get("first_step", "?"), f.get("last_step", "?")
        evidence = f.get("evidence")
        if evidence is not None and not isinstance(evidence, str):
            evidence = json.dumps(evidence, sort_keys=True)
        advice = f.get("advice")
        if isinstance(advice, (list, tuple)):
            advice = (
                "<ul>" + "".join(f"<li>{esc(a)}</li>" for a in advice) + "</ul>" if advice else ""
            )
        elif advice:
            advice = esc(advice)
        parts.append(
            f'<div class="fail" style="border-left-color:{colour}">'
            f"<h3>{esc(f.get('name', 'failure'))} <small>steps {esc(first)}&ndash;{esc(last)}"
            f"</small></h3>"
            + (
                f"<p><b>what it means:</b> {esc(f['explanation'])}</p>"
                if f.get("explanation")
                else ""
            )
            + (f"<div><b>what to try:</b> {advice}</div>" if advice else "")
            + (
                f"<details><summary>evidence</summary><pre>{esc(evidence)}</pre></details>"
                if evidence
                else ""
            )
            + "</div>"
        )
    return (
        f"<p>{len(failures)} failure(s) detected; their step ranges are shaded on the "
        "curves.</p>" + "".join(parts)
    )


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


def report_html(run: RunFiles) -> str:
    name = run.path.resolve().name
    cfg = run.config
    title = f"gankit report: {name}"
    head = (
        f'<h1>{esc(title)}</h1><p class="sub">{esc(cfg.preset or "custom")} &middot; '
        f"data {esc(cfg.data.name)} &middot; loss {esc(cfg.game.loss)} &middot; "
        f"{esc(cfg.train.steps)} steps &middot; seed {esc(cfg.train.seed)}"
        + (f" &middot; {esc(cfg.description)}" if cfg.description else "")
        + "</p>"
    )
    toc = (
        '<p><a href="#diagnosis">diagnosis</a> &middot; <a href="#final">final metrics</a> '
        '&middot; <a href="#curves">curves</a> &middot; <a href="#density">density</a> '
        '&middot; <a href="#config">config</a></p>'
    )
    sections = [head, toc]
    sections.append(f'<section id="diagnosis"><h2>Diagnosis</h2>{diagnosis_html(run)}</section>')
    if run.final:
        final = metrics_table(run.final)
    else:
        final = '<p class="na">no final_metrics.json (the run has not finished)</p>'
    sections.append(f'<section id="final"><h2>Final metrics</h2>{final}</section>')
    curves = curves_figure(run.rows, failures_of(run))
    body = (
        img(png_data_uri(curves), "training curves")
        if curves is not None
        else '<p class="na">metrics.jsonl holds no logged step</p>'
    )
    sections.append(f'<section id="curves"><h2>Curves over steps</h2>{body}</section>')
    params = parameter_space_html(run)
    if params is not None:
        sections.append(f'<section id="parameters"><h2>Parameter space</h2>{params}</section>')
    sections.append(
        f'<section id="density"><h2>Density evolution</h2>{evolution_html(run)}</section>'
    )
    command = f"gankit train --config {run.path / runs.CONFIG} --out NEW"
    sections.append(
        f'<section id="config"><h2>Config</h2><p>Reproduce this run:</p>'
        f"<pre>{esc(command)}</pre><p>The resolved config (<code>config.toml</code>):</p>"
        f"<pre>{esc(run.config_text)}</pre></section>"
    )
    sections.append(
        f'<p class="sub">written {esc(time.strftime("%Y-%m-%d %H:%M:%S"))} by '
        "gankit report from the files of the run directory.</p>"
    )
    return page(title, "".join(sections), (PLAYER_JS,))


def write_report(
    run_dir: str | Path, out: str | Path | None = None, tensorboard: bool = True
) -> Path:
    """Write ``RUN/report.html`` (or ``out``, a file or a directory) and, with ``tensorboard``,
    ``RUN/tb/``; returns the page's path."""
    run = read_run(run_dir)
    text = report_html(run)
    target = Path(out) if out is not None else run.path / runs.REPORT
    if target.is_dir() or (out is not None and target.suffix.lower() not in (".html", ".htm")):
        target = target / runs.REPORT
    runs.atomic_write_text(target, text)
    if tensorboard:
        write_tensorboard(run.path, run.rows, run.snapshots)
    return target
