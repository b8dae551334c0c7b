"""``RUN/tb/``: TensorBoard event files, followed live while a run trains (`LiveScalars`) and
rebuilt after the fact from a run's own files.

Scalars come from ``RUN/metrics.jsonl`` (``train/`` for the per-step statistics, ``eval/`` for
the metrics against the data; lists such as ``class_histogram`` are left out), G's samples from
``RUN/snapshots/`` (a toy's as histograms, one per dimension, ``samples/x0``, ...; an image
run's images ``(grid, C, H, W)`` as one grid per step, ``samples/grid``, or where there is no
snapshot the run's own ``RUN/samples/step-N.png``), and the config as text. Writing post hoc
keeps the trainer free of any logger and makes the result the same for a resumed run: the
folder is rebuilt whole and swapped in, so it never holds two copies of a step.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from gankit import runs
from gankit.report.imagegrid import as_uint8_nhwc
from gankit.report.readers import grid_steps, load_snapshot, snapshot_steps

TB = "tb"
TRAIN_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "lr_d", "lr_g")
SKIP = {"step", "time", "event", "samples"}  # eval_seconds etc. are kept: a cost curve
GRID_TAG = "samples/grid"


def scalars(row: dict) -> list[tuple[str, float, int]]:
    """``(tag, value, step)`` of a row of ``metrics.jsonl`` as TensorBoard shows it: per-step
    statistics under ``train/``, metrics against the data under ``eval/``; rows without a step
    and `gankit evaluate`'s rows left out, as are lists and non-finite numbers."""
    step = row.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or row.get("event") == "evaluate":
        return []
    out = []
    for key, value in row.items():
        if key in SKIP or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out.append((f"{'train' if key in TRAIN_KEYS else 'eval'}/{key}", value, step))
    return out


class LiveScalars:
    """``RUN/tb/`` followed live while a run trains: each logged row's `scalars` as it is
    written (flushed every ``flush_secs``), so TensorBoard shows a run in progress, and an
    interrupted run has its curves. `write_tensorboard` rebuilds the folder whole at the end
    (a resumed run's rows once each, the samples and the config beside them)."""

    def __init__(self, run_dir: str | Path, flush_secs: int = 30):
        from torch.utils.tensorboard import SummaryWriter  # heavy import: only tb/ needs it

        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / TB), flush_secs=flush_secs)

    def add(self, row: dict) -> None:
        for tag, value, step in scalars(row):
            self.writer.add_scalar(tag, value, step)

    def close(self) -> None:
        self.writer.close()


def write_tensorboard(
    run_dir: str | Path,
    rows: list[dict] | None = None,
    snapshots: list[tuple[int, Path]] | None = None,
) -> Path:
    """(Re)write ``RUN/tb/`` and return it."""
    from torch.utils.tensorboard import SummaryWriter  # heavy import: only tb/ needs it

    run_dir = Path(run_dir)
    rows = runs.read_metrics(run_dir) if rows is None else rows
    snapshots = snapshot_steps(run_dir) if snapshots is None else snapshots
    try:
        tmp = Path(tempfile.mkdtemp(dir=run_dir, prefix=".tb."))
    except OSError as exc:
        raise runs.write_failure(run_dir / TB, exc) from None
    try:
        writer = SummaryWriter(log_dir=str(tmp), flush_secs=3600)
        config = run_dir / runs.CONFIG
        if config.is_file():
            writer.add_text("config", "```\n" + config.read_text() + "\n```", 0)
        for row in rows:
            for tag, value, step in scalars(row):
                writer.add_scalar(tag, value, step)
        imaged = set()
        for step, path in snapshots:
            samples = load_snapshot(path)["samples"]
            if samples.ndim == 4:  # images (grid, C, H, W)
                writer.add_images(GRID_TAG, as_uint8_nhwc(samples), step, dataformats="NHWC")
                imaged.add(step)
                continue
            for d in range(samples.shape[1]):
                column = samples[:, d]
                column = column[np.isfinite(column)]
                if len(column):
                    writer.add_histogram(f"samples/x{d}", column, step)
        for step, path in grid_steps(run_dir):
            if step not in imaged:
                try:
                    with Image.open(path) as im:
                        grid = np.asarray(im.convert("RGB"))
                except OSError:
                    continue
                writer.add_image(GRID_TAG, grid, step, dataformats="HWC")
        writer.close()
        target = run_dir / TB
        if target.exists():
            old = run_dir / f".tb.old.{tmp.name}"
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
        return target
    except OSError as exc:  # a full disk or a read-only file system, while writing or swapping
        raise runs.write_failure(run_dir / TB, exc) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
