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


def summary(diagnosis: dict[str, Any]) -> str:
    """One paragraph: no failure, or each failure with its steps and first remedy."""
    failures = diagnosis.get("failures", [])
    if not failures:
        checked = "vanishing gradients, mode collapse, non-convergence, divergence"
        if diagnosis.get("overfit_checked"):
            checked += ", discriminator overfit"
        return f"diagnosis: no failure detected ({checked})."
    parts = []
    for f in failures:
        advice = f" Try {f['advice'][0]}." if f.get("advice") else ""
        parts.append(
            f"{f['name'].replace('_', ' ')} (steps {f['first_step']}-{f['last_step']}): "
            f"{f['explanation']}{advice}"
        )
    return "diagnosis: " + " ".join(parts)
