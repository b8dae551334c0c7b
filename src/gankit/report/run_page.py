"""``RUN/report.html``: one self-contained page built only from a run directory's files.

Every image is a PNG inlined as a base64 data URI, the CSS is inline, the one script (the
animation's player) is inline: the page makes no network request and opens offline.

Sections: the header (preset, data, loss, steps, seed, description; the feature space of an
image run); the diagnosis (``RUN/diagnosis.json``); the final metrics
(``RUN/final_metrics.json``); curves over steps (`gankit.report.figures.CURVE_PANELS`) with the
diagnosed failures' step ranges shaded; then by the run's kind (`KIND_SECTIONS`) the toy
sections (`gankit.report.toy_sections`: parameter space, density evolution) or the image
sections (`gankit.report.image_sections`: samples over time, class histogram, nearest
neighbours, real vs generated); last the resolved config and the command that reproduces it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from gankit import runs
from gankit.report.bigan_section import bigan_sections
from gankit.report.figures import FAIL_COLOURS, curves_figure, png_data_uri
from gankit.report.htmlkit import PLAYER_JS, esc, img, metrics_table, page
from gankit.report.image_sections import feature_space_text, image_sections
from gankit.report.infogan_section import infogan_sections
from gankit.report.pix2pix_section import pix2pix_sections
from gankit.report.pixelcnn_section import pixelcnn_sections
from gankit.report.rbm_section import rbm_sections
from gankit.report.readers import RunFiles, failures_of, read_run
from gankit.report.semisupervised_section import semisupervised_sections
from gankit.report.tensorboard import write_tensorboard
from gankit.report.toy_sections import toy_sections


def diagnosis_html(run: RunFiles) -> str:
    if run.diagnosis_error:
        return f'<p class="na">diagnosis could not be read: {esc(run.diagnosis_error)}</p>'
    if run.diagnosis is None:
        return '<p class="na">diagnosis not run (no diagnosis.json in the run directory)</p>'
    failures = failures_of(run)
    summary = run.diagnosis.get("summary")
    checks = checks_html(run.diagnosis.get("checks"))
    if not failures:
        unchecked = any(
            isinstance(v, str) and v.startswith("not checked")
            for v in (run.diagnosis.get("checks") or {}).values()
        )
        verdict = "no failure detected" + (
            " among the checks that could be made" if unchecked else ""
        )
        return (
            f'<p class="{"na" if unchecked else "ok"}">{verdict}'
            + (f"<br><small>{esc(summary)}</small>" if isinstance(summary, str) else "")
            + f"</p>{checks}"
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
        "curves.</p>" + "".join(parts) + checks
    )


def checks_html(checks) -> str:
    """Every detector's verdict: ok, failed, or not checked and why (a run too short, data
    a detector cannot read): a health the diagnosis could not know is never shown as known."""
    if not isinstance(checks, dict) or not checks:
        return ""
    rows = "".join(
        f'<tr><td>{esc(name.replace("_", " "))}</td><td class="l">{esc(verdict)}</td></tr>'
        for name, verdict in checks.items()
    )
    return (
        "<table><thead><tr><th>check</th><th>verdict</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def header_html(run: RunFiles, title: str) -> str:
    cfg = run.config
    facts = [
        esc(cfg.preset or "custom"),
        f"data {esc(cfg.data.name)}",
        f"loss {esc(cfg.game.loss)}",
        f"{esc(cfg.train.steps)} steps",
        f"seed {esc(cfg.train.seed)}",
    ]
    if cfg.description:
        facts.append(esc(cfg.description))
    if run.kind == "images":
        facts.append(esc(feature_space_text(run)))
    return f'<h1>{esc(title)}</h1><p class="sub">{" &middot; ".join(facts)}</p>'


def final_html(run: RunFiles) -> str:
    if run.final:
        return metrics_table(run.final)
    return '<p class="na">no final_metrics.json (the run has not finished)</p>'


def curves_html(run: RunFiles) -> str:
    curves = curves_figure(run.rows, failures_of(run))
    if curves is None:
        return '<p class="na">metrics.jsonl holds no logged step</p>'
    return img(png_data_uri(curves), "training curves")


def config_html(run: RunFiles) -> str:
    command = f"gankit train --config {run.path / runs.CONFIG} --out NEW"
    return (
        f"<p>Reproduce this run:</p><pre>{esc(command)}</pre><p>The resolved config "
        f"(<code>config.toml</code>):</p><pre>{esc(run.config_text)}</pre>"
    )


#: the sections of each kind of run, between the curves and the config
KIND_SECTIONS = {"toy": toy_sections, "images": image_sections}
#: a model family's own sections, after its kind's (by ``model.family``)
FAMILY_SECTIONS = {
    "pix2pix": pix2pix_sections,
    "infogan": infogan_sections,
    "semi-supervised": semisupervised_sections,
    "bigan": bigan_sections,
    "rbm": rbm_sections,
    "pixelcnn": pixelcnn_sections,
}


def report_html(run: RunFiles) -> str:
    title = f"gankit report: {run.path.resolve().name}"
    sections = [
        ("diagnosis", "Diagnosis", diagnosis_html(run)),
        ("final", "Final metrics", final_html(run)),
        ("curves", "Curves over steps", curves_html(run)),
        *KIND_SECTIONS.get(run.kind, lambda _: [])(run),
        *FAMILY_SECTIONS.get(run.config.model.family, lambda _: [])(run),
        ("config", "Config", config_html(run)),
    ]
    toc = " &middot; ".join(
        f'<a href="#{key}">{esc(name.lower())}</a>' for key, name, _ in sections
    )
    body = [header_html(run, title), f"<p>{toc}</p>"]
    body += [
        f'<section id="{key}"><h2>{esc(name)}</h2>{html}</section>' for key, name, html in sections
    ]
    body.append(
        f'<p class="sub">written {esc(time.strftime("%Y-%m-%d %H:%M:%S"))} by '
        "gankit report from the files of the run directory.</p>"
    )
    return page(title, "".join(body), (PLAYER_JS,))


def write_report(
    run_dir: str | Path, out: str | Path | None = None, tensorboard: bool = True
) -> Path:
    """Write ``RUN/report.html`` (or ``out``, a file or a directory) and, with ``tensorboard``,
    ``RUN/tb/``; returns the page's path. Refused before anything is read or written: an
    empty or non-UTF-8 path, an ``out`` that would replace another run's own page, and a run
    that another process is training when the page or ``tb/`` goes into it (`RunBusy`)."""
    run_dir = runs.require_run_dir(run_dir)
    target = runs.run_path(out, "--out") if out is not None else run_dir / runs.REPORT
    if target.is_dir() or (out is not None and target.suffix.lower() not in (".html", ".htm")):
        target = target / runs.REPORT
    runs.check_report_target(run_dir, target)
    into_run = tensorboard or runs.is_inside(target, run_dir)
    with runs.writing_into(run_dir) if into_run else contextlib.nullcontext():
        run = read_run(run_dir)
        text = report_html(run)
        runs.atomic_write_text(target, text)
        if tensorboard:
            tb = write_tensorboard(run.path, run.rows, run.snapshots)
            with contextlib.suppress(OSError):
                os.chmod(tb, runs.folder_mode())  # made by mkdtemp (0700): as any folder
    return target
