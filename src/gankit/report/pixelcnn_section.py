"""The PixelCNN section of ``RUN/report.html``: the exact held-out likelihood of the final
evaluation (``nll_nats``, ``bits_per_dim``) beside the held-out curve's first and last values
and the training minibatches' last, and, on 28x28 images, the published reference (van den
Oord et al. 2016: 81.30 nats on binarised MNIST). Read from the run's files only; a run of
another family has no such section, and a run that has not finished says so.
"""

from __future__ import annotations

import math

from gankit.report.htmlkit import esc, fmt
from gankit.report.readers import RunFiles

#: published test NLLs on binarised MNIST (nats per image), for 28x28 runs
MNIST_REFERENCES = (("PixelCNN (van den Oord et al. 2016, table 4)", 81.30),)


def _row(what: str, nats, dims: int | None, doc: str) -> str:
    bits = "" if nats is None or not dims else fmt(nats / (dims * math.log(2.0)))
    return (
        f"<tr><td>{esc(what)}</td><td>{esc(fmt(nats) if nats is not None else '-')}</td>"
        f'<td>{esc(bits)}</td><td class="l">{esc(doc)}</td></tr>'
    )


def pixelcnn_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the PixelCNN section; none for a run of another family."""
    if getattr(run.config.model, "family", "gan") != "pixelcnn":
        return []
    rows = run.rows or []
    evals = [r for r in rows if "heldout_nll_nats" in r]
    trained = [r for r in rows if "nll" in r]
    dims = None
    if run.final and run.final.get("bits_per_dim"):
        dims = round(run.final["nll_nats"] / (run.final["bits_per_dim"] * math.log(2.0)))
    elif evals and evals[-1].get("heldout_bits_per_dim"):
        last = evals[-1]
        dims = round(last["heldout_nll_nats"] / (last["heldout_bits_per_dim"] * math.log(2.0)))
    table = []
    if run.final and "nll_nats" in run.final:
        table.append(
            _row("final, held-out", run.final["nll_nats"], dims, "every held-out image, exact")
        )
    for label, r in (("first evaluation", evals[:1]), ("last evaluation", evals[-1:])):
        if r:
            table.append(
                _row(
                    f"{label} (step {r[0]['step']})",
                    r[0]["heldout_nll_nats"],
                    dims,
                    "held-out images (the first 2,000 at most)",
                )
            )
    if trained:
        table.append(
            _row(
                f"training minibatch (step {trained[-1]['step']})",
                trained[-1]["nll"],
                dims,
                "one minibatch, binarised afresh",
            )
        )
    if not table:
        html = '<p class="na">no likelihood yet (no evaluation and no final_metrics.json)</p>'
        return [("pixelcnn", "PixelCNN likelihood", html)]
    html = (
        "<p>Negative log-likelihood of binarised images, exact (the sum of every pixel's "
        "conditional), lower is better.</p><table><thead><tr><th>where</th><th>nats / image"
        "</th><th>bits / dim</th><th>what</th></tr></thead><tbody>"
        + "".join(table)
        + "</tbody></table>"
    )
    if dims == 784:
        refs = "; ".join(f"{esc(name)}: {fmt(v)} nats" for name, v in MNIST_REFERENCES)
        html += f"<p>Published on binarised MNIST's test set: {refs}.</p>"
    raw = (getattr(run.config, "sections", None) or {}).get("pixelcnn")
    # the section as a recipe settled it, or as read by a report without the recipes
    samples = raw.get("samples") if isinstance(raw, dict) else getattr(raw, "samples", None)
    samples = samples or "bits"
    what = (
        "each pixel's probability given the bits drawn before it"
        if samples == "means"
        else "the {0, 1} bits drawn"
    )
    html += f"<p>Samples (pixelcnn.samples = {esc(samples)}): {esc(what)}.</p>"
    return [("pixelcnn", "PixelCNN likelihood", html)]
