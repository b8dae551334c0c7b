"""Learning-rate schedules: pure functions of the step, so that a resumed run is exact (DINO)."""

from __future__ import annotations

import math
from collections.abc import Callable

#: learning-rate schedules by name: ``decay(p) -> factor`` at the fraction ``p`` in [0, 1] of
#: the steps after the warm-up (`register_schedule` adds one; ``optim.schedule`` selects it)
SCHEDULES: dict[str, Callable[[float], float]] = {}


def register_schedule(name: str, decay: Callable[[float], float]) -> None:
    """Add a schedule ``decay(p)`` under ``name``; a name can be registered once."""
    if name in SCHEDULES:
        raise ValueError(f"schedule '{name}' is already registered")
    SCHEDULES[name] = decay


def lr_factor(step: int, total: int, schedule: str, warmup: int) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total``.

    A linear warm-up ``(step + 1) / warmup`` over the first ``warmup`` steps, then over the
    remaining ``total - warmup`` steps the schedule's decay at p, the fraction of them done
    (clipped to [0, 1]): ``constant`` 1; ``linear`` 1 - p; ``cosine`` (1 + cos(pi p)) / 2."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule '{schedule}'; known: {', '.join(SCHEDULES)}")
    factor = 1.0
    if warmup > 0 and step < warmup:
        factor = (step + 1) / warmup
    progress = min(max(step - warmup, 0) / max(total - warmup, 1), 1.0)
    return factor * SCHEDULES[schedule](progress)


register_schedule("constant", lambda p: 1.0)
register_schedule("linear", lambda p: 1.0 - p)
register_schedule("cosine", lambda p: 0.5 * (1.0 + math.cos(math.pi * p)))


def schedule_of(optim, total: int) -> Callable[[int], float]:
    """``step -> factor`` of an ``optim`` config section (``schedule``, ``warmup``) over
    ``total`` steps: what the loop multiplies every phase's base learning rate by."""
    schedule, warmup = optim.schedule, optim.warmup
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule '{schedule}'; known: {', '.join(SCHEDULES)}")

    def factor(step: int) -> float:
        return lr_factor(step, total, schedule, warmup)

    return factor


# ----------------------------------------------------------------------------- classifiers
#
# The schedules of the feature classifiers (`gankit.metrics.features`), which their loops read
# as ``lr_factor(step)``; they are no ``optim.schedule`` of a run, so they are not registered.


def one_cycle(progress: float) -> float:
    """The feature classifier's one cycle at ``progress`` in [0, 1] of its training: a linear
    warm-up from 0.1 to 1 over the first 15 %, then a cosine down to 1e-3."""
    warm = 0.15
    if progress < warm:
        return 0.1 + 0.9 * progress / warm
    t = min(1.0, (progress - warm) / (1.0 - warm))
    return 0.5 * (1.0 + math.cos(math.pi * t)) + 1e-3


def cosine_annealing_rates(base: float, epochs: int, eta_min: float = 0.0) -> list[float]:
    """The learning rate of each of ``epochs`` epochs under ``torch.optim.lr_scheduler.
    CosineAnnealingLR(T_max=epochs)`` stepped once per epoch, to the bit: torch computes each
    rate from the previous one (its recursive form), not from the closed form
    ``eta_min + (base - eta_min) (1 + cos(pi e / epochs)) / 2``, and the two differ in the last
    bits. The shipped digits net was trained under this schedule."""
    rates = [float(base)]
    for e in range(1, epochs):
        ratio = (1 + math.cos(math.pi * e / epochs)) / (1 + math.cos(math.pi * (e - 1) / epochs))
        rates.append(ratio * (rates[-1] - eta_min) + eta_min)
    return rates
