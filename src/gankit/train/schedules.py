"""Learning-rate schedules: pure functions of the step, so that a resumed run is exact (DINO)."""

from __future__ import annotations

import math
from collections.abc import Callable

SCHEDULES = ("constant", "linear", "cosine")


def lr_factor(step: int, total: int, schedule: str, warmup: int) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total``.

    A linear warm-up ``(step + 1) / warmup`` over the first ``warmup`` steps, then over the
    remaining ``total - warmup`` steps: ``constant`` 1; ``linear`` 1 - p; ``cosine``
    (1 + cos(pi p)) / 2, with p the fraction of them done (clipped to [0, 1])."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule '{schedule}'; known: {', '.join(SCHEDULES)}")
    factor = 1.0
    if warmup > 0 and step < warmup:
        factor = (step + 1) / warmup
    progress = min(max(step - warmup, 0) / max(total - warmup, 1), 1.0)
    if schedule == "linear":
        factor *= 1.0 - progress
    elif schedule == "cosine":
        factor *= 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


def schedule_of(optim, total: int) -> Callable[[int], float]:
    """``step -> factor`` of an ``optim`` config section (``schedule``, ``warmup``) over
    ``total`` steps: what the loop multiplies every phase's base learning rate by."""
    schedule, warmup = optim.schedule, optim.warmup
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule '{schedule}'; known: {', '.join(SCHEDULES)}")

    def factor(step: int) -> float:
        return lr_factor(step, total, schedule, warmup)

    return factor
