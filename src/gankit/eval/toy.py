"""Evaluation of toy densities, where everything is known exactly.

At each evaluation: the exact toy metrics (`gankit.metrics.divergences.toy_metrics`: KS, W1,
binned JS/KL in 1-D; W1 by optimal transport and kNN divergences in 2-D; PacGAN's mode metrics)
of ``log.eval_samples`` generated samples; with a finite training set (``data.train_size``),
D's read-outs on training points, fresh points and generated points, and Karras et al.'s r_v
(`gankit.metrics.overfit`). Snapshots hold 5,000 generated samples and, in 1-D, D's read-out on
a grid (the report draws it beside D* = p_data / (p_data + p_g)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gankit import runs
from gankit.config import Config
from gankit.data.finite import TrainingSet
from gankit.data.sources import ToyData
from gankit.data.toy import PointMass
from gankit.eval.base import GRID_POINTS, SNAPSHOT_SAMPLES, EvalState, Redraw, eval_stream
from gankit.game.losses import d_readout, get_loss
from gankit.metrics.divergences import toy_metrics
from gankit.metrics.overfit import overfit_ratio
from gankit.nets.latent import eval_mode


class ToyEvaluator:
    """The exact metrics of a toy run (see the module docstring)."""

    kind = "toy"

    def __init__(self, config: Config, data: ToyData, device: torch.device | str = "cpu"):
        self.config = config
        self.distribution = data.distribution
        self.train_set = data.source if isinstance(data.source, TrainingSet) else None
        self.device = device
        self.headline = "w1" if isinstance(self.distribution, PointMass) else "jsd"

    def __call__(self, state: EvalState) -> dict[str, float]:
        stream = eval_stream(self.config.train.seed, state.step)
        samples = state.sample(self.config.log.eval_samples, stream)
        metrics = toy_metrics(self.distribution, samples)
        if self.train_set is not None and state.discriminator is not None:
            metrics.update(self.overfit(state, samples, stream))
        return metrics

    def final(
        self,
        samples: Tensor,
        run_dir: Path | None = None,
        redraw: Redraw | None = None,
        classes: Tensor | None = None,
    ) -> dict[str, float]:
        """The exact metrics of the final ``samples`` (a toy run writes no extra file, and
        draws once: ``log.final_draws`` is an image setting, refused on toys, so ``redraw`` is
        never read; toy generators are unconditional, so ``classes`` must be None)."""
        if classes is not None:
            raise ValueError("toy data has no classes: a toy generator is unconditional")
        return toy_metrics(self.distribution, samples)

    def _reads_points(self, state: EvalState) -> bool:
        """Whether D scores single points (not a D that reads minibatch statistics)."""
        return getattr(state.discriminator, "pointwise", True)

    @torch.no_grad()
    def readout(self, state: EvalState, x: Tensor) -> Tensor:
        """``(n,)`` D's read-out on points ``x`` (probabilities for the sigmoid losses)."""
        d = state.discriminator
        with eval_mode(d):
            scores = d(x.to(self.device)).float().cpu().reshape(-1)
        return d_readout(get_loss(state.readout_loss), scores)

    @torch.no_grad()
    def overfit(self, state: EvalState, samples: Tensor, stream: torch.Generator) -> dict:
        """D's mean read-out on (up to) ``len(samples)`` training points, as many fresh points
        of the density and the generated ``samples``, and r_v (`overfit_ratio`). Empty for a D
        that judges sets rather than points (packing, minibatch layers, moments)."""
        if self.config.model.pack > 1 or not self._reads_points(state):
            return {}
        n = samples.shape[0]
        batches = (self.train_set.points[:n], self.distribution.sample(n, stream), samples)
        return overfit_ratio(*(self.readout(state, x) for x in batches))

    @torch.no_grad()
    def snapshot(self, state: EvalState, run_dir: Path) -> None:
        """``RUN/snapshots/step-N.npz``: generated samples, and in 1-D D's read-out on a grid
        (for a D whose score is a function of single points; a packed D in eval mode scores
        each grid point as a pack of its copies)."""
        stream = eval_stream(self.config.train.seed + 1, state.step)
        samples = state.sample(SNAPSHOT_SAMPLES, stream)
        arrays = {"samples": samples.numpy().astype(np.float32)}
        if self.distribution.dim == 1 and state.discriminator is not None:
            if self._reads_points(state):
                lo, hi = self.distribution.support()
                grid = torch.linspace(lo, hi, GRID_POINTS)
                arrays["grid"] = grid.numpy()
                arrays["d_grid"] = self.readout(state, grid.unsqueeze(1)).numpy()
                arrays["d_is_probability"] = np.array(get_loss(state.readout_loss).probabilities)
        folder = Path(run_dir) / runs.SNAPSHOTS
        folder.mkdir(exist_ok=True)
        runs.atomic_write_npz(folder / f"step-{state.step}.npz", arrays)
