"""What every model family's training does around its `Trainable`, written once.

`train_run`: the refusals first (the run directory, the family's nets and switches, the
evaluator), before anything is written; then the claimed run directory, the one `Loop` with the
standard callbacks (evaluation and snapshots read the family's `EvalState`), resume, the fit,
and the end of the run: a divergence's diagnosis and one-line error, or the final evaluation,
diagnosis, plots and report (`gankit.recipes.finish`). A family supplies ``prepare(data,
device)``, which builds and checks its nets and returns a function that makes its trainable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import torch

from gankit import config as config_mod
from gankit import runs
from gankit.config import Config
from gankit.data.sources import build_data
from gankit.devices import pick_device
from gankit.errors import GankitWarning
from gankit.eval import EvalState, evaluate_state, evaluator_for
from gankit.recipes.base import LoadedRun, TrainOptions, place_data, run_loop
from gankit.recipes.finish import finish, finish_diverged
from gankit.recipes.rundir import claim, diverged_error, record_resume
from gankit.report.tensorboard import LiveScalars
from gankit.train.callbacks import Callback, standard_callbacks
from gankit.train.loop import Loop
from gankit.train.trainable import Trainable


class LiveTensorBoard(Callback):
    """``RUN/tb/`` written as the run goes (`gankit.report.tensorboard.LiveScalars`): each
    logged row's scalars. Best effort: where the folder cannot be written, one warning and the
    run goes on (its files are complete; the report rebuilds ``tb/`` from them at the end)."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.live: LiveScalars | None = None

    def on_fit_start(self, loop) -> None:
        try:
            self.live = LiveScalars(self.run_dir)
        except OSError as exc:
            warnings.warn(
                f"{self.run_dir / 'tb'}: cannot be written ({exc.strerror or exc}); "
                "TensorBoard files will be written at the end only",
                GankitWarning,
                stacklevel=2,
            )

    def on_log(self, loop, row: dict) -> None:
        if self.live is not None:
            try:
                self.live.add(row)
            except OSError:
                self.live = None

    def on_fit_end(self, loop) -> None:
        if self.live is not None:
            try:
                self.live.close()
            except OSError:
                pass
            self.live = None


class FamilyTrainable(Trainable, Protocol):
    """A trainable that also says what its evaluator reads of it at ``step``."""

    def eval_state(self, step: int) -> EvalState: ...


def loop_with_callbacks(
    config: Config,
    trainable: FamilyTrainable,
    data,
    out: Path,
    device: torch.device,
    progress: bool = True,
    on_log=None,
    evaluator=None,
) -> Loop:
    """The `Loop` of one run directory: ``trainable`` with the standard callbacks, evaluation
    and snapshots against ``data`` by ``evaluator`` (default: the evaluator of its kind)."""
    evaluate = snapshot = headline = None
    if config.log.eval_every > 0:  # else no evaluator: none of its work, none of its checks
        evaluator = evaluator if evaluator is not None else evaluator_for(config, data, device)
        headline = evaluator.headline

        def evaluate(loop: Loop) -> dict[str, float]:
            return evaluate_state(evaluator, trainable.eval_state(loop.step))

        def snapshot(loop: Loop) -> None:
            evaluator.snapshot(trainable.eval_state(loop.step), out)

    callbacks = standard_callbacks(config, out, evaluate, snapshot, headline, progress, on_log)
    return run_loop(config, trainable, out, device, callbacks)


def train_run(
    config: Config,
    options: TrainOptions,
    prepare: Callable[[object, torch.device], Callable[[], FamilyTrainable]],
    load: Callable[[Path, Config], LoadedRun],
    make_evaluator: Callable[[Config, object, torch.device], object] = evaluator_for,
) -> Path:
    """Train ``config`` as ``options`` say (resumed: ``config`` is the run's stored one, with
    ``options.changes``); returns the run directory. ``make_evaluator(config, data, device)``:
    the evaluator (default: the one of the data's kind; a family without a generator, such as
    the semi-supervised GAN's supervised baseline, gives its own). Raises `Diverged` after
    writing the diagnosis of a run that diverged, `Interrupted` after checkpointing a run stopped by
    SIGINT/SIGTERM, `RunBusy` when another process writes ``out``."""
    out, resume = Path(options.out), options.resume
    runs.check_out(out, resume, options.force)
    data = build_data(config)
    device = pick_device(config.train.device)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    torch.manual_seed(config.train.seed)  # initial weights (api.train restores the caller's)
    make_trainable = prepare(data, device)  # the family's refusals, before any write
    evaluator = None
    if config.log.eval_every > 0:
        evaluator = make_evaluator(config, data, device)  # its refusals, before any write
    config_text = config_mod.dumps(config)
    place_data(data, device)
    with claim(options, config_text):
        loop = loop_with_callbacks(
            config,
            make_trainable(),
            data,
            out,
            device,
            options.progress,
            options.on_log,
            evaluator,
        )
        loop.callbacks.append(LiveTensorBoard(out))  # the run's own tb/ (not sub-runs')
        if resume:
            step = loop.resume()
            record_resume(out, config_text, step, options.changes)
        loop.fit(stop_after=options.stop_after)
        if loop.divergence is not None:
            finish_diverged(out)
            raise diverged_error(out, loop.divergence)
        if loop.step >= config.train.steps:
            finish(load(out, config), options.progress)
    return out
