"""``RUN/diagnosis.json`` and the one-paragraph summary of a diagnosis."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gankit import config as config_mod
from gankit import runs
from gankit.diagnose.detectors import diagnose


def json_safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_diagnosis(run_dir: str | Path) -> dict[str, Any]:
    """Diagnose ``RUN/metrics.jsonl`` with ``RUN/config.toml`` into ``RUN/diagnosis.json``."""
    run_dir = Path(run_dir)
    config = config_mod.resolve(config_file=run_dir / runs.CONFIG)
    result = diagnose(runs.read_metrics(run_dir), config)
    result["summary"] = summary(result)
    runs.atomic_write_text(
        run_dir / runs.DIAGNOSIS, json.dumps(json_safe(result), indent=2, allow_nan=False) + "\n"
    )
    return result


#: how the summary names each check of ``diagnosis.json``
LABELS = {
    "diverged": "divergence",
    "vanishing_gradients": "vanishing gradients",
    "mode_collapse": "mode collapse",
    "non_convergence": "non-convergence",
    "discriminator_overfit": "discriminator overfit",
}
NOT_CHECKED = "not checked: "


def _unchecked(checks: dict[str, str]) -> list[str]:
    """``label (reason)`` of each check that could not be made."""
    return [
        f"{LABELS.get(name, name.replace('_', ' '))} ({status[len(NOT_CHECKED) :]})"
        for name, status in checks.items()
        if isinstance(status, str) and status.startswith(NOT_CHECKED)
    ]


def summary(diagnosis: dict[str, Any]) -> str:
    """One paragraph: each failure with its steps and first remedy, or "no failure detected"
    with what was checked; either way naming every check that could not be made, and why.

    ``no failure detected (checked: divergence, non-convergence; could not check: mode
    collapse (no evaluation in the second half of training ...), ...).`` A diagnosis without
    ``checks`` (written before they existed) lists the detectors it ran."""
    failures = diagnosis.get("failures", [])
    checks = diagnosis.get("checks")
    if not isinstance(checks, dict):
        checks = None
    unchecked = _unchecked(checks) if checks else []
    if not failures:
        if checks is None:
            checked = "vanishing gradients, mode collapse, non-convergence, divergence"
            if diagnosis.get("overfit_checked"):
                checked += ", discriminator overfit"
            return f"diagnosis: no failure detected ({checked})."
        ok = [LABELS.get(n, n.replace("_", " ")) for n, s in checks.items() if s == "ok"]
        parts = ["checked: " + (", ".join(ok) or "nothing")]
        if unchecked:
            parts.append("could not check: " + ", ".join(unchecked))
        return f"diagnosis: no failure detected ({'; '.join(parts)})."
    parts = []
    for f in failures:
        advice = f" Try {f['advice'][0]}." if f.get("advice") else ""
        parts.append(
            f"{f['name'].replace('_', ' ')} (steps {f['first_step']}-{f['last_step']}): "
            f"{f['explanation']}{advice}"
        )
    if unchecked:
        parts.append("Could not check: " + ", ".join(unchecked) + ".")
    return "diagnosis: " + " ".join(parts)
