"""What a finished run writes beside its checkpoints: the final evaluation, the diagnosis, the
plots and the report (the report and TensorBoard files are written from the run's files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit import runs
from gankit.diagnose import write_diagnosis
from gankit.eval.base import draw_lines
from gankit.game.losses import get_loss
from gankit.recipes.base import LoadedRun
from gankit.report.plots import density_figure, write_run_plots
from gankit.report.run_page import write_report

#: the fewest and the most samples drawn for ``RUN/density.png``: as many as the final
#: evaluation's (``log.final_samples``) within these bounds, so the picture shows what the
#: metrics measured and a slow sampler (an RBM's Gibbs chains) is not asked for 100,000 more
PLOT_SAMPLES = (10_000, 100_000)


def density_plot(run: LoadedRun):
    """The final density figure of a toy run: its samples and D's read-out (None otherwise)."""
    if run.data.kind != "toy":
        return None
    fewest, most = PLOT_SAMPLES
    n = min(most, max(fewest, run.config.log.final_samples))
    samples = run.sample(n, seed=1).numpy()

    def readout(grid: np.ndarray):
        values = run.readout(torch.from_numpy(grid).float().unsqueeze(1))
        return None if values is None else values.numpy()

    loss = get_loss(run.readout_loss)
    return density_figure(
        run.data.distribution, samples, run.step, readout, loss.probabilities, loss.name
    )


def finish(run: LoadedRun, progress: bool = True) -> None:
    """``final_metrics.json``, ``diagnosis.json``, the plots, ``report.html`` and ``tb/``; no
    final metrics where the run asked for no evaluation (``log.eval_every = 0``). With
    ``progress``, the final evaluation's draws say so on stderr (`draw_lines`)."""
    if run.config.log.eval_every > 0:
        on_draw = draw_lines("final evaluation") if progress else None
        runs.write_json(run.path / runs.FINAL, run.evaluate(write=True, on_draw=on_draw))
    write_diagnosis(run.path)
    write_run_plots(run.path, density_plot(run))
    write_report(run.path)


def finish_diverged(path: Path) -> None:
    """A run that diverged gets its diagnosis only: its generator's samples are not finite, and
    it may have stopped before its first checkpoint."""
    write_diagnosis(path)
