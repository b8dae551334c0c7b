"""The public API behind the CLI, a thin facade: train a config into a run directory, load a
run, sample it, evaluate it. The work is the recipes' (`gankit.recipes`), one per model family.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from gankit import config as config_mod
from gankit import recipes, runs
from gankit.config import Config
from gankit.diagnose import summary
from gankit.recipes import LoadedRun, TrainOptions

#: the final metrics `summary_lines` shows, where present, in this order
SUMMARY_KEYS = (
    "ks",
    "jsd",
    "w1",
    "kl_data_model",
    "mean",
    "std",
    "kurtosis",
    "modes_covered",
    "high_quality",
    "reverse_kl",
)
#: image runs: the metrics of these families, in every feature space (``fid_digits``, ...)
SUMMARY_PREFIXES = ("fid_", "precision_", "recall_", "one_nn_accuracy_", "classes_covered")


def train(
    config: Config,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    on_log=None,
) -> Path:
    """Train ``config`` into a run directory and return its path.

    ``out`` defaults to ``runs/<preset>-<time>``; ``resume`` continues the run in ``out`` from
    its newest checkpoint (with the config stored there); ``force`` replaces whatever ``out``
    holds. Everything is validated before anything is written. ``stop_after`` stops early at
    that step (as an interruption would), for tests; ``on_log`` is called with each logged row.
    """
    out = Path(out) if out is not None else runs.default_run_dir(config.preset or "custom")
    if resume and runs.is_run_dir(out):
        config = config_mod.resolve(config_file=out / runs.CONFIG)
    options = TrainOptions(out, resume, force, progress, stop_after, on_log)
    return recipes.recipe_for(config).train(config, options)


def load_run(path: str | Path) -> LoadedRun:
    """Load ``RUN``'s config and newest checkpoint (G's EMA when present) onto the CPU."""
    return recipes.load_run(path)


def sample(path: str | Path, n: int, seed: int = 0) -> torch.Tensor:
    """``(n, ...)`` float32 samples of a run's generator, reproducible from ``seed``: toy
    samples ``(n, dim)`` in data units, images ``(n, C, H, W)`` in [0, 1]."""
    return load_run(path).export(n, seed=seed)


def evaluate_run(path: str | Path, n: int | None = None, seed: int = 0) -> dict:
    """Evaluate a run's newest checkpoint and record the result in ``RUN/metrics.jsonl``."""
    metrics = load_run(path).evaluate(n=n, seed=seed)
    runs.append_metrics_row(Path(path), {"event": "evaluate", **metrics})
    return metrics


def summary_lines(path: str | Path) -> list[str]:
    """A few lines about a finished run: its final metrics and its diagnosis."""
    final = Path(path) / runs.FINAL
    if not final.is_file():
        return []
    metrics = json.loads(final.read_text())
    keys = [k for k in SUMMARY_KEYS if k in metrics]
    keys += [
        k
        for p in SUMMARY_PREFIXES
        for k in sorted(metrics)
        if k.startswith(p) and isinstance(metrics[k], (int, float))
    ]
    lines = ["final: " + "  ".join(f"{k}={metrics[k]:.4g}" for k in keys)]
    diagnosis = Path(path) / runs.DIAGNOSIS
    if diagnosis.is_file():
        lines.append(summary(json.loads(diagnosis.read_text())))
    return lines
