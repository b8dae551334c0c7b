"""The InfoGAN section of ``RUN/report.html``: the latent traversals the run wrote
(``RUN/infogan/traversal-cJ.png``: rows = values of the categorical code, columns = continuous
code J swept from -2 to 2, the other codes at 0, one z) and the code metrics of its final
evaluation (``code_class_accuracy``, ``q_heldout_accuracy``, the code -> class matching) beside
their curves' last values. Read from the run's files only; a run of another family has no such
section, and a run that has not finished says so.
"""

from __future__ import annotations

import re

from gankit.errors import GankitError
from gankit.report.htmlkit import esc, figure, fmt, pixel_img
from gankit.report.imagegrid import png_file_uri, zoom_width
from gankit.report.readers import RunFiles

#: the folder and the file names the InfoGAN recipe writes its traversals under
TRAVERSAL_DIR = "infogan"
TRAVERSAL_NAME = re.compile(r"^traversal-c(\d+)\.png$")
#: the final metrics shown, in order, with what each means
CODE_KEYS = (
    (
        "code_class_accuracy",
        "generated images whose class (feature net) is their code's matched class",
    ),
    (
        "q_heldout_accuracy",
        "real held-out images whose label is the class matched to Q's code "
        "(matching found on generated images: no label seen)",
    ),
    (
        "q_heldout_accuracy_own_matching",
        "the same through the best matching on the held-out labels themselves (an upper bound)",
    ),
    ("q_generated_accuracy", "generated images whose code Q reads back"),
)


def traversal_files(run: RunFiles) -> list[tuple[int, object]]:
    """``(J, path)`` of the run's traversal grids, by code."""
    folder = run.path / TRAVERSAL_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = TRAVERSAL_NAME.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def _metrics_html(final: dict | None) -> str:
    if not final or "code_class_accuracy" not in final:
        return '<p class="na">no code metrics (no final_metrics.json: the run has not finished)</p>'
    rows = "".join(
        f'<tr><td>{esc(key)}</td><td>{esc(fmt(final[key]))}</td><td class="l">{esc(doc)}</td></tr>'
        for key, doc in CODE_KEYS
        if key in final
    )
    matching = final.get("code_class_matching")
    pairs = ""
    if isinstance(matching, list):
        pairs = (
            "<p>code &rarr; class (Hungarian matching on generated images): "
            + ", ".join(f"{esc(k)}&rarr;{esc(c)}" for k, c in enumerate(matching))
            + "</p>"
        )
    return (
        "<table><thead><tr><th>metric</th><th>value</th><th>what it counts</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{pairs}"
    )


def infogan_sections(run: RunFiles) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of the InfoGAN section; none for a run of another family."""
    if getattr(run.config.model, "family", "gan") != "infogan":
        return []
    parts = [_metrics_html(run.final)]
    files = traversal_files(run)
    if not files:
        parts.append(
            '<p class="na">no latent traversals (RUN/infogan/traversal-cJ.png are written at '
            "the end of a run)</p>"
        )
    for j, path in files:
        try:
            uri, width = png_file_uri(path)
        except GankitError as exc:
            parts.append(f'<p class="na">skipped: {esc(exc)}</p>')
            continue
        caption = (
            f"continuous code {j}: rows = categorical code 0, 1, ...; columns = code {j} from -2 "
            "to 2 (training drew it from [-1, 1]); other codes 0, one z"
        )
        parts.append(figure(pixel_img(uri, f"traversal of code {j}", zoom_width(width)), caption))
    return [("infogan", "InfoGAN codes and latent traversals", "".join(parts))]
