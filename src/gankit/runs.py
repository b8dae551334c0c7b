"""The run directory: its layout, atomic writes, checkpoints (safetensors) and resume.

```
RUN/config.toml        the fully resolved config
RUN/metrics.jsonl      one JSON object per logged step
RUN/checkpoints/       step-N.safetensors, and `latest` (a text file naming the newest)
RUN/snapshots/         step-N.npz: generated samples (and D on a grid in 1-D) at evaluation steps
RUN/diagnosis.json, RUN/report.html, RUN/tb/, RUN/*.png
```
A checkpoint holds G, D, G's EMA, both optimizers' states, every RNG stream and the step, so
that a resumed run continues bit for bit. Nothing is pickled: a downloaded run cannot run code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from gankit.errors import GankitError

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
SNAPSHOTS = "snapshots"
LATEST = "latest"
FINAL = "final_metrics.json"
DIAGNOSIS = "diagnosis.json"
REPORT = "report.html"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def is_run_dir(path: Path) -> bool:
    return (Path(path) / CONFIG).is_file()


def require_run_dir(path: str | Path) -> Path:
    """``path`` as a `Path` when it is a run directory; `GankitError` naming it otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise GankitError(f"{path}: no such run directory")
    if not is_run_dir(path):
        raise GankitError(f"{path}: not a run directory (no {CONFIG})")
    return path


def has_content(path: Path) -> bool:
    path = Path(path)
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def default_run_dir(name: str) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>``, with a ``-N`` suffix where that already exists."""
    base = Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, i = base, 1
    while path.exists():
        path, i = Path(f"{base}-{i}"), i + 1
    return path


def check_out(out: Path, resume: bool, force: bool) -> None:
    """Refuse to overwrite a run unless asked (``--force``), or to resume what is no run with a
    checkpoint: checked before anything is written."""
    if resume:
        if not is_run_dir(out):
            raise GankitError(f"--resume: {out} is not a run directory (no {CONFIG})")
        latest_checkpoint(out)
        return
    if has_content(out) and not force:
        raise GankitError(
            f"--out {out} already holds files; use --resume to continue the run "
            "or --force to overwrite it"
        )
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file, not a directory")


def start_run_dir(out: Path, config_text: str, force: bool) -> None:
    """A fresh run directory holding the resolved config and an empty metrics log."""
    if force and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / CONFIG, config_text)
    (out / METRICS).touch()


def append_metrics_row(run: Path, row: dict[str, Any]) -> None:
    """Append one line to ``RUN/metrics.jsonl`` (outside a trainer's open log)."""
    with open(Path(run) / METRICS, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented, key-sorted JSON, written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


# ----------------------------------------------------------------------------- metrics.jsonl


def read_metrics(run: Path) -> list[dict[str, Any]]:
    """Every complete line of ``RUN/metrics.jsonl`` (a line cut short by a kill is skipped)."""
    path = Path(run) / METRICS
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def truncate_metrics(run: Path, last_step: int) -> None:
    """Keep only the lines up to ``last_step`` (what a resumed run will write again is dropped)."""
    rows = [r for r in read_metrics(run) if r.get("step", -1) <= last_step]
    atomic_write_text(Path(run) / METRICS, "".join(json.dumps(r) + "\n" for r in rows))


# ----------------------------------------------------------------------------- checkpoints


def _flatten_optimizer(
    prefix: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]
) -> dict:
    state = optimizer.state_dict()
    extra: dict[str, Any] = {"param_groups": state["param_groups"], "scalars": {}}
    for idx, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.state.{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                extra["scalars"][f"{idx}.{key}"] = value
    return extra


def _unflatten_optimizer(prefix: str, tensors: dict[str, torch.Tensor], extra: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    start = f"{prefix}.state."
    for name, value in tensors.items():
        if name.startswith(start):
            idx, key = name[len(start) :].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    for name, value in extra["scalars"].items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    return {"state": state, "param_groups": extra["param_groups"]}


def save_checkpoint(
    run: Path,
    step: int,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rngs: dict[str, torch.Generator],
    keep: int = 3,
) -> Path:
    """Write ``RUN/checkpoints/step-N.safetensors`` atomically, point ``latest`` at it, and keep
    the newest ``keep`` checkpoints."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().cpu().contiguous()
    extra = {name: _flatten_optimizer(name, opt, tensors) for name, opt in optimizers.items()}
    for name, gen in rngs.items():
        tensors[f"rng.{name}"] = gen.get_state()
    metadata = {"step": str(step), "optimizers": json.dumps(extra), "format": "gankit-1"}
    folder = Path(run) / CHECKPOINTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step-{step}.safetensors"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write_text(folder / LATEST, path.name + "\n")
    olds = sorted(folder.glob("step-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))
    for old in olds[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return path


def latest_checkpoint(run: Path) -> Path:
    """The newest checkpoint of a run; `GankitError` naming the run when it has none."""
    folder = Path(run) / CHECKPOINTS
    pointer = folder / LATEST
    if pointer.is_file():
        path = folder / pointer.read_text().strip()
        if path.is_file():
            return path
    found = sorted(folder.glob("step-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))
    if not found:
        raise GankitError(f"{run}: no checkpoint in {folder} (was the run started?)")
    return found[-1]


def load_checkpoint(path: Path) -> tuple[int, dict[str, torch.Tensor], dict]:
    """(step, tensors, optimizer metadata) of a checkpoint file."""
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
        return int(metadata["step"]), tensors, json.loads(metadata["optimizers"])
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise GankitError(f"{path}: not a readable gankit checkpoint ({exc})") from None


def restore(
    tensors: dict[str, torch.Tensor],
    extra: dict,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rngs: dict[str, torch.Generator],
) -> None:
    """Load modules (strictly), optimizers and RNG streams from a checkpoint's tensors."""
    for name, module in modules.items():
        prefix = f"{name}."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        module.load_state_dict(state, strict=True)
    for name, opt in optimizers.items():
        opt.load_state_dict(_unflatten_optimizer(name, tensors, extra[name]))
    for name, gen in rngs.items():
        gen.set_state(tensors[f"rng.{name}"])
