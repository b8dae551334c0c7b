"""What the detectors share: reading config values and logged rows, and the failure record."""

from __future__ import annotations

import math
from typing import Any

TRAIN_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")
PROBABILITY_LOSSES = ("minimax", "nonsaturating")


def cfg_value(config, path: str, default=None):
    """``config`` value at ``a.b`` for a `Config`, a nested dict or None."""
    node = config
    for part in path.split("."):
        if node is None:
            return default
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return default if node is None else node


def finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def train_rows(rows: list[dict]) -> list[dict]:
    """The rows logged by training (not the evaluations `gankit evaluate` appends)."""
    return [r for r in rows if "step" in r and "d_loss" in r and r.get("event") != "evaluate"]


def total_steps(rows: list[dict], config) -> int:
    """The run's length: ``train.steps`` (or the last logged step, if beyond); 0 for no rows."""
    steps = [r["step"] for r in rows if finite(r.get("step"))]
    last = int(max(steps)) if steps else 0
    return max(last, int(cfg_value(config, "train.steps", 0) or 0)) if last else 0


def num(x) -> float | None:
    """``x`` rounded for the evidence, or None where it is not a finite number."""
    return round(float(x), 6) if finite(x) else None


def failure(name, first, last, evidence, explanation, advice) -> dict[str, Any]:
    """One detected failure, as ``diagnosis.json`` lists it."""
    return {
        "name": name,
        "first_step": int(first),
        "last_step": int(last),
        "evidence": evidence,
        "explanation": explanation,
        "advice": advice,
    }
