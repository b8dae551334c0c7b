"""The public API behind the CLI, a thin facade: train a config into a run directory, load a
run, sample it, evaluate it. The work is the recipes' (`gankit.recipes`), one per model family.
"""

from __future__ import annotations

import json
import signal
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch

from gankit import config as config_mod
from gankit import recipes, runs
from gankit.config import Config
from gankit.diagnose import summary
from gankit.errors import Diverged, GankitError, GankitWarning, Interrupted, RuntimeFailure
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
    "heldout_accuracy",
    "unlabelled_accuracy",
)
#: image runs: the metrics of these families, in every feature space (``fid_digits``, ...)
SUMMARY_PREFIXES = ("fid_", "precision_", "recall_", "one_nn_accuracy_", "classes_covered")


def _flat(config: Config) -> dict:
    """``{"optim.lr_d": 0.001, ...}``: every key of every section (tables stay whole)."""
    out = {}
    for key, value in config_mod.to_dict(config).items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def resumed_config(
    run: Path, overrides=(), shorthands: dict | None = None
) -> tuple[Config, tuple[str, ...]]:
    """``RUN/config.toml`` with ``overrides`` (``--set``) and ``shorthands`` (``--steps``)
    applied, and what they change (``"optim.lr_d: 1e+09 -> 0.0002"``); `GankitError` naming
    the key when a change is one a checkpoint cannot follow (the recipe's
    ``frozen_on_resume``)."""
    path = Path(run) / runs.CONFIG

    def resolve(overrides=(), shorthands=None) -> Config:
        try:
            return config_mod.resolve(config_file=path, overrides=overrides, shorthands=shorthands)
        except GankitError as exc:
            message = str(exc)
            if str(path) in message or message.startswith("--set"):
                raise
            raise GankitError(f"{path}: {message}") from None

    base = resolve()
    if not overrides and not any(v is not None for v in (shorthands or {}).values()):
        return base, ()
    new = resolve(overrides, shorthands)
    old_flat, new_flat = _flat(base), _flat(new)
    frozen = recipes.recipe_for(base).frozen_on_resume
    changes = []
    for key, value in new_flat.items():
        if old_flat.get(key) == value:
            continue
        if any(key == f or (f.endswith(".") and key.startswith(f)) for f in frozen):
            raise GankitError(
                f"--resume: {key} cannot change in a resumed run (its checkpoints hold the nets, "
                f"data streams and optimizer it shapes); train a new run with --out NEW instead"
            )
        changes.append(f"{key}: {old_flat.get(key)!r} -> {value!r}")
    return new, tuple(changes)


@contextmanager
def caller_state_kept():
    """The caller's process as it was after a training: torch's thread count and the global
    random state (CPU and CUDA) are restored, whatever the run set (``train.threads``, its
    initial weights seeded from ``train.seed``)."""
    threads = torch.get_num_threads()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        torch.set_num_threads(threads)


def train(
    config: Config | None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    on_log=None,
    overrides=(),
    shorthands: dict | None = None,
) -> Path:
    """Train ``config`` into a run directory and return its path.

    ``out`` defaults to ``runs/<preset>-<time>``; ``resume`` continues the run in ``out`` from
    its newest intact checkpoint with the config stored there (``config`` is then ignored and
    may be None), changed by ``overrides`` (``["optim.lr_d=2e-4"]``) and ``shorthands``
    (``{"train.steps": 4000}``) where given (`resumed_config`); ``force`` replaces whatever
    ``out`` holds. Everything is validated before anything is written. ``stop_after`` stops
    early at that step (as an interruption would), for tests; ``on_log`` is called with each
    logged row.

    Raises `~gankit.errors.Diverged` (after writing the diagnosis) when training diverges,
    `~gankit.errors.Interrupted` (after checkpointing the step reached) on SIGINT/SIGTERM,
    `~gankit.errors.RunBusy` when another process writes ``out``, `GankitError` for bad input.
    """
    if config is None and not resume:
        raise GankitError("train: give a config (or resume=True with an existing run)")
    if out is None and resume:
        raise GankitError("--resume needs --out RUN (the run to continue)")
    if out is None:
        out = runs.default_run_dir(config.preset or "custom")
    out = runs.run_path(out, "--out")  # '' (an unset variable) is never the current folder
    changes: tuple[str, ...] = ()
    if resume:
        if not runs.is_run_dir(out):
            runs.check_out(out, resume=True, force=False)  # raises, naming out
        config, changes = resumed_config(out, overrides, shorthands)
    elif overrides or shorthands:
        raise GankitError("train: overrides and shorthands apply to a resumed run only")
    options = TrainOptions(out, resume, force, progress, stop_after, on_log, changes)
    recipe = recipes.check_config(config)
    try:
        with caller_state_kept():
            return recipe.train(config, options)
    except Interrupted as exc:
        if exc.run is None and runs.is_run_dir(out):
            exc.run = out
        raise
    except KeyboardInterrupt:
        run = out if runs.is_run_dir(out) else None
        raise Interrupted(signal.SIGINT, run=run) from None
    except Diverged as exc:
        exc.run = exc.run or out
        raise


def load_run(path: str | Path) -> LoadedRun:
    """Load ``RUN``'s config and newest checkpoint (G's EMA when present) onto the CPU."""
    return recipes.load_run(path)


def sample(path: str | Path, n: int, seed: int = 0, label: int | None = None) -> torch.Tensor:
    """``(n, ...)`` float32 samples of a run's generator, reproducible from ``seed``: toy
    samples ``(n, dim)`` in data units, images ``(n, C, H, W)`` in [0, 1]; ``label``: all of
    that class (a class-conditional run; by default in the training split's class shares)."""
    return load_run(path).export(n, seed=seed, label=label)


def evaluate_run(
    path: str | Path,
    n: int | None = None,
    seed: int = 0,
    loaded: LoadedRun | None = None,
    on_draw=None,
) -> dict:
    """Evaluate a run's newest intact checkpoint and record the result in
    ``RUN/metrics.jsonl``. Where it cannot be recorded -- another process trains the run, or
    the run directory cannot be written (read-only media, a full disk) -- the metrics are only
    returned, with a warning saying why. ``loaded``: the run already loaded; ``on_draw(i,
    draws)``: called before each further FID draw of an image run (`eval.base.draw_lines`)."""
    metrics = (loaded or load_run(path)).evaluate(n=n, seed=seed, on_draw=on_draw)
    try:
        with runs.RunLock(Path(path)):
            runs.append_metrics_row(Path(path), {"event": "evaluate", **metrics})
    except RuntimeFailure as exc:
        warnings.warn(
            f"{exc}: the evaluation is not recorded in its metrics.jsonl",
            GankitWarning,
            stacklevel=2,
        )
    return metrics


def summary_lines(path: str | Path) -> list[str]:
    """A few lines about a finished run: its final metrics and its diagnosis."""
    final = Path(path) / runs.FINAL
    lines = []
    if final.is_file():
        lines.append(_final_line(json.loads(final.read_text())))
    diagnosis = Path(path) / runs.DIAGNOSIS
    if diagnosis.is_file():
        lines.append(summary(json.loads(diagnosis.read_text())))
    return lines


def _final_line(metrics: dict) -> str:
    """``final: ks=... jsd=...``: the final metrics `SUMMARY_KEYS` and `SUMMARY_PREFIXES` pick."""
    keys = [k for k in SUMMARY_KEYS if k in metrics]
    keys += [
        k
        for p in SUMMARY_PREFIXES
        for k in sorted(metrics)
        if k.startswith(p) and isinstance(metrics[k], (int, float))
    ]
    return "final: " + "  ".join(f"{k}={metrics[k]:.4g}" for k in keys)
