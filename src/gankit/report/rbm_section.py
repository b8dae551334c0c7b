"""The RBM section of ``RUN/report.html``: the likelihood numbers of the final evaluation
(pseudo-likelihood, the AIS estimate of log Z with its standard error, the held-out and training
log-likelihoods, bits per dimension) beside the pseudo-likelihood's curve, and samples along
Gibbs chains (``RUN/rbm/chain.png``: one chain a row, its means p(v|h) after the sweep counts
of ``RUN/rbm/chain.json``, left to right). On a 2-D toy: the exact held-out log-likelihood
beside the toy's own and log Z (no chain strip: the toy's samples are the evaluator's scatter
plots). Read from the run's files only; a run of another family has no such section, and a run
that has not finished says so.
"""

from __future__ import annotations

import json

from gankit.errors import GankitError
from gankit.report.htmlkit import esc, figure, fmt, pixel_img
from gankit.report.imagegrid import png_file_uri, zoom_width
from gankit.report.readers import RunFiles

#: the files the RBM recipe writes at the end of a run, under the run directory
CHAIN_PNG = "rbm/chain.png"
CHAIN_INFO = "rbm/chain.json"
#: the final metrics shown, in order, with what each means
LIKELIHOOD_KEYS = (
    ("log_likelihood", "a toy's mean held-out log p(x) = log P(its cell) - log(cell area), nats"),
    ("data_log_likelihood", "the toy's own exact log-density at the same points (the ceiling)"),
    ("log_likelihood_ais", "mean held-out log p(v) = -F(v) - log Z, nats per image"),
    ("log_likelihood_ais_train", "the same on the training split (the gap: overfitting)"),
    ("bits_per_dim", "held-out -log p(v) / (V ln 2)"),
    ("log_z", "log partition function: by AIS (Salakhutdinov & Murray 2008); exact on a toy"),
    ("log_z_stderr", "its standard error (shared by every log-likelihood above)"),
    ("pseudo_likelihood", "held-out, scikit-learn's one-bit estimate (score_samples), nats"),
    ("pseudo_likelihood_exact", "held-out, the sum over every bit of log p(v_i | v_-i), nats"),
)


def _metrics_html(final: dict | None) -> str:
    if not final or not ({"log_likelihood_ais", "log_likelihood"} & set(final)):
        return (
            '<p class="na">no likelihood numbers (no final_metrics.json: the run has not '
            "finished)</p>"
        )
    rows = "".join(
        f'<tr><td>{esc(key)}</td><td>{esc(fmt(final[key]))}</td><td class="l">{esc(doc)}</td></tr>'
        for key, doc in LIKELIHOOD_KEYS
        if key in final
    )
    return (
        "<table><thead><tr><th>metric</th><th>value</th><th>what it is</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _pl_curve_html(rows: list[dict]) -> str:
    points = [
        (r["step"], r["pseudo_likelihood"])
        for r in rows
        if isinstance(r.get("pseudo_likelihood"), (int, float)) and "step" in r
    ]
    if not points:
        return ""
    cells = "".join(f"<tr><td>{esc(s)}</td><td>{esc(fmt(v))}</td></tr>" for s, v in points)
    return (
        "<details><summary>held-out pseudo-likelihood at each evaluation</summary><table>"
        f"<thead><tr><th>step</th><th>pseudo-likelihood</th></tr></thead><tbody>{cells}"
        "</tbody></table></details>"
    )


def _strip_html(run: RunFiles) -> str:
    path = run.path / CHAIN_PNG
    if not path.is_file():
        return (
            '<p class="na">no chain strip (RUN/rbm/chain.png is written by the final '
            "evaluation)</p>"
        )
    try:
        uri, width = png_file_uri(path)
    except GankitError as exc:
        return f'<p class="na">skipped: {esc(exc)}</p>'
    steps = "?"
    try:
        info = json.loads((run.path / CHAIN_INFO).read_text(encoding="utf-8"))
        steps = ", ".join(str(int(s)) for s in info["steps"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    caption = (
        "Gibbs chains from uniform random bits, one a row; left to right the means p(v|h) "
        f"after {steps} sweeps (the last column is what gankit sample draws)"
    )
    return figure(pixel_img(uri, "samples along Gibbs chains", zoom_width(width)), caption)


def rbm_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the RBM section; none for a run of another family."""
    if getattr(run.config.model, "family", "gan") != "rbm":
        return []
    toy = "log_likelihood" in (run.final or {}) and not (run.path / CHAIN_PNG).is_file()
    strip = "" if toy else _strip_html(run)
    html = _metrics_html(run.final) + _pl_curve_html(run.rows) + strip
    return [("rbm", "RBM likelihoods and Gibbs chains", html)]
