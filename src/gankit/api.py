"""The public API behind the CLI: train a config into a run directory, load a run, sample it."""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit import config as config_mod
from gankit import runs
from gankit.config import Config
from gankit.data.finite import TrainingSet
from gankit.data.toy import ToyDistribution, make_toy
from gankit.errors import GankitError
from gankit.game.game import Game
from gankit.game.trainer import Trainer
from gankit.nets.build import batch_multiple, build_models, sample_noise

SNAPSHOT_SAMPLES = 5000
GRID_POINTS = 400


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise GankitError("train.device: 'cuda' requested but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def build_data(config: Config) -> ToyDistribution:
    try:
        return make_toy(config.data.name, **config.data.params)
    except TypeError as exc:
        raise GankitError(f"data.params: {exc}") from None
    except ValueError as exc:
        raise GankitError(f"data.name/params: {exc}") from None


def build_models_for(config: Config, data: ToyDistribution) -> tuple[nn.Module, nn.Module]:
    """(G, D) of ``config`` for ``data``; refuses a minibatch size that D cannot split into
    packs (``model.pack``) or moment groups (``model.d_input = "moments"``)."""
    multiple = batch_multiple(config.model)
    if config.train.batch_size % multiple != 0:
        key = "model.pack" if config.model.d_input == "samples" else "model.d_input"
        raise GankitError(
            f"train.batch_size = {config.train.batch_size} is not a multiple of {multiple}, "
            f"which {key} = {getattr(config.model, key.split('.')[1])!r} needs"
        )
    return build_models(
        config.model,
        data.dim,
        data.sample,
        config.train.seed,
        identity_head=config.game.diversity > 0,
    )


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode for the block, then back in the mode it was in."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@torch.no_grad()
def generate(
    generator: nn.Module,
    config: Config,
    n: int,
    rng: torch.Generator,
    device: torch.device | str = "cpu",
    batch: int = 65536,
) -> torch.Tensor:
    """``(n, dim)`` samples of G in eval mode, drawn from ``rng`` in batches."""
    out = []
    with eval_mode(generator):
        for start in range(0, n, batch):
            z = sample_noise(
                min(batch, n - start), config.model.noise_dim, config.model.noise, rng, device
            )
            out.append(generator(z).float().cpu())
    return torch.cat(out)


def eval_generator(seed: int, step: int) -> torch.Generator:
    """A stream for evaluation at ``step`` that never touches training's streams."""
    return torch.Generator().manual_seed(1_000_003 * (seed + 1) + step)


def _toy_metrics(data: ToyDistribution, samples: torch.Tensor) -> dict[str, float]:
    from gankit.metrics.divergences import toy_metrics

    return toy_metrics(data, samples)


def default_run_dir(config: Config) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{config.preset or 'custom'}-{stamp}"
    path, i = base, 1
    while path.exists():
        path, i = Path(f"{base}-{i}"), i + 1
    return path


def _prepare_dir(out: Path, resume: bool, force: bool) -> None:
    """Refuse to overwrite a run unless asked; checked before anything is written."""
    if resume:
        if not runs.is_run_dir(out):
            raise GankitError(f"--resume: {out} is not a run directory (no {runs.CONFIG})")
        runs.latest_checkpoint(out)
        return
    if runs.has_content(out) and not force:
        raise GankitError(
            f"--out {out} already holds files; use --resume to continue the run "
            "or --force to overwrite it"
        )
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file, not a directory")


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

    ``resume`` continues the run in ``out`` from its newest checkpoint (with the config stored
    there); ``force`` replaces whatever ``out`` holds. Everything is validated before anything is
    written. ``stop_after`` stops early at that step (as an interruption would), for tests."""
    out = Path(out) if out is not None else default_run_dir(config)
    if _boosted(config, out, resume):
        return _adagan().train(config, out, resume, force, progress, stop_after, on_log)
    _prepare_dir(out, resume, force)
    if resume:
        config = config_mod.resolve(config_file=out / runs.CONFIG)
    data = build_data(config)
    device = pick_device(config.train.device)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    torch.manual_seed(config.train.seed)  # initial weights
    generator, discriminator = build_checked_models(config, data)
    train_set = training_set(config, data)
    if not resume:
        start_run_dir(out, config, force)
    trainer = make_trainer(
        config,
        train_set.sample if train_set is not None else data.sample,
        generator,
        discriminator,
        out,
        data,
        device,
        progress,
        on_log,
        train_set=train_set,
    )
    if resume:
        trainer.resume()
    trainer.fit(stop_after=stop_after)
    if trainer.step >= config.train.steps or trainer.stopped_reason:
        finish(out, diverged=trainer.stopped_reason is not None)
    return out


def training_set(config: Config, data: ToyDistribution) -> TrainingSet | None:
    """The run's finite training set (``data.train_size`` > 0), or None: fresh minibatches."""
    size = config.data.train_size
    return TrainingSet(data, size, config.train.seed) if size else None


def build_checked_models(config: Config, sample_source) -> tuple[nn.Module, nn.Module]:
    """(G, D) for ``config``, after the game's refusals (a remedy that does not fit the loss or
    the nets): called before anything is written."""
    generator, discriminator = build_models_for(config, sample_source)
    Game(config.game, model=config.model, total_steps=config.train.steps).check_discriminator(
        discriminator
    )
    return generator, discriminator


def start_run_dir(out: Path, config: Config, force: bool) -> None:
    """A fresh run directory holding the resolved config and an empty metrics log."""
    if force and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    runs.atomic_write_text(out / runs.CONFIG, config_mod.dumps(config))
    (out / runs.METRICS).touch()


def make_trainer(
    config: Config,
    sample_data,
    generator: nn.Module,
    discriminator: nn.Module,
    out: Path,
    data: ToyDistribution,
    device: torch.device,
    progress: bool = True,
    on_log=None,
    train_set: TrainingSet | None = None,
) -> Trainer:
    """The `Trainer` of one run directory, evaluating G against the true ``data`` (which
    ``sample_data`` may reweight, as AdaGAN's rounds do) and writing its snapshots; with a
    finite ``train_set``, each evaluation also asks whether D has overfit it."""

    def evaluator(g: nn.Module, step: int) -> dict[str, float]:
        stream = eval_generator(config.train.seed, step)
        samples = generate(g, config, config.log.eval_samples, stream, device)
        metrics = _toy_metrics(data, samples)
        if train_set is not None:
            metrics.update(
                overfit_metrics(config, discriminator, train_set, data, samples, stream, device)
            )
        return metrics

    def snapshot(g: nn.Module, d: nn.Module, step: int) -> None:
        write_snapshot(out, step, g, d, config, data, device)

    return Trainer(
        config,
        sample_data,
        generator,
        discriminator,
        out,
        device,
        evaluator=evaluator,
        snapshot=snapshot,
        progress=progress,
        on_log=on_log,
    )


@torch.no_grad()
def overfit_metrics(
    config: Config,
    d: nn.Module,
    train_set: TrainingSet,
    data: ToyDistribution,
    samples: torch.Tensor,
    stream: torch.Generator,
    device,
) -> dict[str, float]:
    """D's mean read-out on (up to ``log.eval_samples``) training points, ``log.eval_samples``
    fresh points of the density and the generated ``samples``, and Karras et al.'s r_v
    (`overfit_ratio`). Empty for a D that judges sets rather than points (packing, minibatch
    layers, moments)."""
    from gankit.game.losses import d_readout, get_loss
    from gankit.metrics.overfit import overfit_ratio

    if config.model.pack > 1 or not getattr(d, "pointwise", True):
        return {}
    n = samples.shape[0]  # the training set's mean over (up to) as many of its points
    batches = (train_set.points[:n], data.sample(n, stream), samples)
    loss = get_loss(config.game.loss)
    with eval_mode(d):
        readouts = [d_readout(loss, d(x.to(device)).float().cpu().reshape(-1)) for x in batches]
    return overfit_ratio(*readouts)


@torch.no_grad()
def write_snapshot(
    out: Path, step: int, g: nn.Module, d: nn.Module, config: Config, data: ToyDistribution, device
) -> None:
    """``RUN/snapshots/step-N.npz``: G's samples, and in 1-D D's read-out on a grid (for a D
    whose score is a function of single points, ``D.pointwise``, the default)."""
    samples = generate(
        g, config, SNAPSHOT_SAMPLES, eval_generator(config.train.seed + 1, step), device
    )
    arrays = {"samples": samples.numpy().astype(np.float32)}
    if data.dim == 1 and getattr(d, "pointwise", True):
        # In eval mode a packed D scores each grid point as a pack of its copies; a D that
        # reads minibatch statistics (moments, minibatch layers) has no score of single
        # points, and gets no curve.
        from gankit.game.losses import d_readout, get_loss

        lo, hi = data.support()
        grid = torch.linspace(lo, hi, GRID_POINTS)
        with eval_mode(d):
            scores = d(grid.unsqueeze(1).to(device)).float().cpu().reshape(-1)
        arrays["grid"] = grid.numpy()
        arrays["d_grid"] = d_readout(get_loss(config.game.loss), scores).numpy()
        arrays["d_is_probability"] = np.array(get_loss(config.game.loss).probabilities)
    folder = out / runs.SNAPSHOTS
    folder.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    runs.atomic_write_bytes(folder / f"step-{step}.npz", buffer.getvalue())


def finish(out: Path, diverged: bool = False) -> None:
    """What a finished run writes beside its checkpoints: the final evaluation, the diagnosis,
    the plots and the report. A run that diverged gets its diagnosis only (its generator's
    samples are not finite, and it may have stopped before its first checkpoint)."""
    from gankit.diagnose import write_diagnosis

    if diverged:
        write_diagnosis(out)
        return
    run = load_run(out)
    final = run.evaluate()
    runs.atomic_write_text(out / "final_metrics.json", _json(final))
    write_diagnosis(out)
    from gankit.report.plots import write_run_plots

    write_run_plots(out)
    from gankit.report.html import write_report

    write_report(out)  # RUN/report.html and RUN/tb/ (TensorBoard, written from the run's files)


def _json(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


# ----------------------------------------------------------------------------- AdaGAN hook


def _adagan():
    """`gankit.game.adagan`, which builds on this module (imported here lazily)."""
    from gankit.game import adagan

    return adagan


def _boosted(config: Config, out: Path, resume: bool) -> bool:
    """Whether this run is an AdaGAN boosted run (``game.boost_rounds > 0``); on ``--resume``
    the config stored in ``out`` decides."""
    if resume and runs.is_run_dir(out):
        config = config_mod.resolve(config_file=out / runs.CONFIG)
    return config.game.boost_rounds > 0


# ----------------------------------------------------------------------------- loading runs


@dataclass
class Run:
    """A trained run loaded back from its directory (newest checkpoint)."""

    path: Path
    config: Config
    data: ToyDistribution
    generator: nn.Module
    discriminator: nn.Module
    step: int

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``(n, dim)`` float32 samples of the run's generator (its EMA where it kept one)."""
        if n < 1:
            raise GankitError(f"-n: number of samples must be >= 1, got {n}")
        return generate(self.generator, self.config, n, torch.Generator().manual_seed(seed))

    def evaluate(self, n: int | None = None, seed: int = 0) -> dict[str, float]:
        """Exact toy metrics of ``n`` samples (default ``log.final_samples``) vs the data."""
        n = n or self.config.log.final_samples
        metrics = _toy_metrics(self.data, self.sample(n, seed=seed))
        return {"step": self.step, "samples": n, **metrics}


def load_run(path: str | Path) -> Run:
    """Load ``RUN``'s config and newest checkpoint (G's EMA when present) onto the CPU."""
    path = runs.require_run_dir(path)
    config = config_mod.resolve(config_file=path / runs.CONFIG)
    data = build_data(config)
    if config.game.boost_rounds > 0:
        return _adagan().load_run(path, config, data)
    generator, discriminator = build_models_for(config, data)
    step, tensors, _ = runs.load_checkpoint(runs.latest_checkpoint(path))
    name = "G_ema" if any(k.startswith("G_ema.") for k in tensors) else "G"
    runs.restore(tensors, {}, {name: generator, "D": discriminator}, {}, {})
    return Run(path, config, data, generator.eval(), discriminator.eval(), step)


def evaluate_run(path: str | Path, n: int | None = None, seed: int = 0) -> dict:
    """Evaluate a run's newest checkpoint and record the result in ``RUN/metrics.jsonl``."""
    run = load_run(path)
    metrics = run.evaluate(n=n, seed=seed)
    with open(Path(path) / runs.METRICS, "a") as fh:
        fh.write(json.dumps({"event": "evaluate", **metrics}) + "\n")
    return metrics


def summary_lines(path: str | Path) -> list[str]:
    """A few lines about a finished run: its final metrics."""
    final = Path(path) / "final_metrics.json"
    if not final.is_file():
        return []
    metrics = json.loads(final.read_text())
    keys = [
        k
        for k in (
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
        if k in metrics
    ]
    lines = ["final: " + "  ".join(f"{k}={metrics[k]:.4g}" for k in keys)]
    diagnosis = Path(path) / "diagnosis.json"
    if diagnosis.is_file():
        from gankit.diagnose import summary

        lines.append(summary(json.loads(diagnosis.read_text())))
    return lines
