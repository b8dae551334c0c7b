"""Reading a run directory for the reports: plain files only (config, metrics.jsonl, the
final metrics, the diagnosis, the snapshots; for image runs the sample grids and
``nearest.npz``, `docs/image-runs.md`). Never imports the layers that train or load models: a
report can be written for any run directory, finished, killed or downloaded.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gankit import config as config_mod
from gankit import runs
from gankit.data.datasets import dataset_names
from gankit.data.sources import build_toy, data_kind
from gankit.data.toy import toy_names
from gankit.errors import GankitError

#: ``RUN/samples/step-N.png``: an image run's grid of generated images at step N


@dataclass
class RunFiles:
    """What a report needs, read from a run directory (and nothing else). ``kind``: ``"toy"`` or
    ``"images"`` (`run_kind`). ``data``: the toy distribution of a toy run (its exact density,
    drawn under the samples); None otherwise. ``grids``: ``(step, RUN/samples/step-N.png)`` of
    an image run, by step."""

    path: Path
    config: Any
    config_text: str
    rows: list[dict]
    final: dict | None
    diagnosis: dict | None
    diagnosis_error: str | None
    snapshots: list[tuple[int, Path]]
    data: Any = field(repr=False)
    kind: str = "toy"
    grids: list[tuple[int, Path]] = field(default_factory=list)


#: the deepest nesting of a run's JSON files (final metrics, a diagnosis: 4 levels or so)
MAX_JSON_DEPTH = 64
#: the largest of them, in bytes (they are a few kilobytes)
MAX_JSON_BYTES = 64 * 2**20


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deep the arrays and objects of JSON ``text`` nest, counted without parsing (brackets
    inside strings skipped): what a file is checked for before `json.loads` recurses into it."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def read_json_object(path: Path) -> dict:
    """A JSON object from ``path``; `GankitError` naming the file when it is not one: not
    readable, not UTF-8, not JSON, larger than `MAX_JSON_BYTES`, nested deeper than
    `MAX_JSON_DEPTH` (a file nested 100,000 deep is refused, not met with a RecursionError)."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise GankitError(f"{path}: {size} bytes is too large for a run's JSON file")
        text = path.read_text(encoding="utf-8")
        if json_depth(text) > MAX_JSON_DEPTH:
            raise GankitError(
                f"{path}: not readable JSON (nested deeper than {MAX_JSON_DEPTH} levels)"
            )
        value = json.loads(text)
    except GankitError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise GankitError(f"{path}: not readable JSON ({reason})") from None
    if not isinstance(value, dict):
        raise GankitError(f"{path}: expected a JSON object")
    return value


def run_kind(data) -> str:
    """``"toy"`` for a toy density, ``"images"`` for an image dataset (`docs/image-runs.md`);
    any other name is `gankit.data.sources.data_kind`'s to judge."""
    if data.name in toy_names():
        return "toy"
    if data.name in dataset_names():
        return "images"
    return data_kind(data)


def _steps(folder: Path, suffix: str) -> list[tuple[int, Path]]:
    found = []
    for p in folder.glob(f"step-*{suffix}"):
        m = re.fullmatch(r"step-(\d+)" + re.escape(suffix), p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def snapshot_steps(run_dir: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of ``RUN/snapshots/step-N.npz``, by step."""
    return _steps(Path(run_dir) / runs.SNAPSHOTS, ".npz")


def grid_steps(run_dir: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of ``RUN/samples/step-N.png`` (an image run's sample grids), by step."""
    return _steps(Path(run_dir) / runs.SAMPLES, ".png")


def load_arrays(path: Path, what: str = "snapshot") -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file (never pickles); `GankitError` naming the file."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise GankitError(f"{path}: not a readable {what} ({exc})") from None


def load_snapshot(path: Path) -> dict[str, np.ndarray]:
    return load_arrays(path, "snapshot")


def read_run(run_dir: str | Path) -> RunFiles:
    """Read a run directory; `GankitError` naming the directory or file when it is not one."""
    path = runs.require_run_dir(run_dir)
    config_text = (path / runs.CONFIG).read_text()
    try:
        config = config_mod.resolve(config_file=path / runs.CONFIG)
    except GankitError as exc:
        message = str(exc)
        raise GankitError(
            message if str(path) in message else f"{path / runs.CONFIG}: {message}"
        ) from None
    kind = run_kind(config.data)
    data = build_toy(config.data) if kind == "toy" else None
    rows = runs.read_metrics(path)
    final = read_json_object(path / runs.FINAL) if (path / runs.FINAL).is_file() else None
    diagnosis, diagnosis_error = None, None
    if (path / runs.DIAGNOSIS).is_file():
        try:
            diagnosis = read_json_object(path / runs.DIAGNOSIS)
            if not isinstance(diagnosis.get("failures", []), list):
                raise GankitError(f"{path / runs.DIAGNOSIS}: 'failures' is not a list")
        except GankitError as exc:
            diagnosis, diagnosis_error = None, str(exc)
    return RunFiles(
        path,
        config,
        config_text,
        rows,
        final,
        diagnosis,
        diagnosis_error,
        snapshot_steps(path),
        data,
        kind=kind,
        grids=grid_steps(path) if kind == "images" else [],
    )


def failures_of(run: RunFiles) -> list[dict]:
    if not run.diagnosis:
        return []
    return [f for f in run.diagnosis.get("failures", []) if isinstance(f, dict)]
