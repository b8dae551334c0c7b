"""What an evaluator reads and the random streams it draws from.

An evaluator is built once per run for its kind of data (`gankit.eval.evaluator_for`) and
called at evaluation steps with an `EvalState`: a way to sample the generator (G, or its EMA, or
AdaGAN's mixture), the discriminator to read out where the evaluator reads one, and the step.
It returns a flat dict of floats (a row of ``metrics.jsonl``) and names its ``headline`` metric
(the progress bar shows it). It never touches training's random streams: evaluation at step N
draws from `eval_stream` of (seed, N), so a resumed run evaluates exactly as an uninterrupted one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor, nn

#: samples per snapshot file (``RUN/snapshots/step-N.npz``)
SNAPSHOT_SAMPLES = 5000
#: points of the 1-D grid on which a snapshot reads D out
GRID_POINTS = 400

Sampler = Callable[[int, torch.Generator], Tensor]
#: ``redraw(i) -> (n, ...)``: the ``i``-th further independent draw (i = 1, 2, ...) of as many
#: samples as the final evaluation's first, for metrics reported as a mean over draws
Redraw = Callable[[int], Tensor]


#: ``on_draw(i, total)``: called before the final evaluation's ``i``-th further draw of ``total``
DrawReport = Callable[[int, int], None]
#: seconds between two lines of a final evaluation's draws
DRAW_LINE_SECONDS = 10.0


def draw_lines(what: str, every: float = DRAW_LINE_SECONDS, stream=None) -> DrawReport:
    """A final evaluation's progress on stderr: a line at its first further draw (what it
    does and how many draws), then at most every ``every`` seconds and at its last draw, so
    that the minute of 100 FID draws after a fit's bar reaches 100 % is never silent."""
    started = last = time.monotonic()

    def report(i: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        first, final = i == 1, i == total - 1
        if not (first or final or now - last >= every):
            return
        last = now
        head = f"gankit: {what}: " + (f"FID over {total} draws, " if first else "")
        print(
            f"{head}draw {i + 1}/{total}, {now - started:.0f} s",
            file=stream if stream is not None else sys.stderr,
            flush=True,
        )

    return report


def eval_stream(seed: int, step: int) -> torch.Generator:
    """A stream for evaluation at ``step`` that never touches training's streams."""
    return torch.Generator().manual_seed(1_000_003 * (seed + 1) + step)


@dataclass
class EvalState:
    """What an evaluator reads of a model at ``step``.

    ``sample(n, generator) -> (n, ...)`` float32 CPU samples, in eval mode; ``discriminator``:
    D (or a classifier standing in for it), read through ``readout_loss`` (the name of the loss
    whose read-out applies: a probability for the sigmoid losses, the raw score otherwise);
    None where nothing is to be read out. ``sample_classes(n) -> (n,)``: for a
    class-conditional G, the classes ``sample(n, ...)`` asks it for (the same for every draw,
    which a conditional D reads with the images); None otherwise. ``family_metrics() -> dict``:
    what a family measures beyond its samples (InfoGAN's code accuracy, a semi-supervised D's
    held-out accuracy), merged into the evaluation's row by the loop's binding
    (`evaluate_state`); None for a family with nothing more."""

    sample: Sampler
    step: int
    discriminator: nn.Module | None = None
    readout_loss: str = "nonsaturating"
    sample_classes: Callable[[int], Tensor] | None = None
    family_metrics: Callable[[], dict[str, float]] | None = None


class Evaluator(Protocol):
    """One kind of data's evaluation (`gankit.eval.toy.ToyEvaluator`, ...)."""

    kind: str
    headline: str

    def __call__(self, state: EvalState) -> dict[str, float]: ...

    def snapshot(self, state: EvalState, run_dir: Path) -> None: ...

    def final(
        self,
        samples: Tensor,
        run_dir: Path | None = None,
        redraw: Redraw | None = None,
        classes: Tensor | None = None,
    ) -> dict[str, float]: ...


def evaluate_state(evaluator: Evaluator, state: EvalState) -> dict[str, float]:
    """``evaluator``'s metrics of ``state`` and the family's own (``state.family_metrics``):
    one row, the family's keys last."""
    metrics = evaluator(state)
    if state.family_metrics is not None:
        metrics.update(state.family_metrics())
    return metrics
