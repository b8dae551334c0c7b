"""Checkpoints: safetensors with a digest of their tensors, every random stream and the step;
the newest intact one found past a damaged one.

Two digests make a checkpoint whole: ``sha256`` (`tensor_digest`) covers its tensors, and
``header_sha256`` (`header_digest`) covers every other entry of its metadata -- the step, the
optimizers' settings and scalars, the format, what the nets were built for, and ``sha256``
itself -- so that nothing read back is outside a digest. A file that lacks either, or whose
either does not match, is damaged: skipped for the next older checkpoint."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from gankit.errors import GankitError, GankitWarning
from gankit.runs.atomic import atomic_write_bytes, atomic_write_text, one_line, write_failure
from gankit.runs.names import CHECKPOINT_FORMAT, CHECKPOINTS, LATEST, MAX_CHECKPOINT_BYTES

_STEP_FILE = re.compile(r"step-(\d+)\.safetensors")
#: the metadata entry holding `header_digest`
HEADER_DIGEST = "header_sha256"


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


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 of the tensors: names, dtypes, shapes and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def header_digest(metadata: dict[str, str]) -> str:
    """sha256 of a checkpoint's metadata (every entry but `HEADER_DIGEST` itself, the tensors'
    ``sha256`` included) as canonical JSON: keys sorted, ASCII only, no spaces."""
    body = {k: v for k, v in metadata.items() if k != HEADER_DIGEST}
    text = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def checkpoint_files(run: Path) -> list[Path]:
    """``RUN/checkpoints/step-N.safetensors``, newest (largest N) first."""
    folder = Path(run) / CHECKPOINTS
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _STEP_FILE.fullmatch(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found, reverse=True)]


def save_checkpoint(
    run: Path,
    step: int,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rngs: dict[str, torch.Generator],
    keep: int = 3,
    inputs: dict | None = None,
) -> Path:
    """Write ``RUN/checkpoints/step-N.safetensors`` atomically, point ``latest`` at it, and keep
    the newest ``keep`` checkpoints. A failed write leaves every older checkpoint as it was.
    ``inputs``: what the nets were built for (an image run's ``shape`` and ``num_classes``),
    so that loading a run for sampling needs no data (`checkpoint_inputs`)."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().cpu().contiguous()
    extra = {name: _flatten_optimizer(name, opt, tensors) for name, opt in optimizers.items()}
    for name, gen in rngs.items():
        tensors[f"rng.{name}"] = gen.get_state()
    metadata = {
        "step": str(step),
        "optimizers": json.dumps(extra),
        "format": CHECKPOINT_FORMAT,
        "sha256": tensor_digest(tensors),
    }
    if inputs:
        metadata["inputs"] = json.dumps(inputs)
    metadata[HEADER_DIGEST] = header_digest(metadata)
    folder = Path(run) / CHECKPOINTS
    path = folder / f"step-{step}.safetensors"
    try:
        data = save_tensors(tensors, metadata=metadata)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise write_failure(path, exc) from None
    atomic_write_bytes(path, data)
    atomic_write_text(folder / LATEST, path.name + "\n")
    for old in checkpoint_files(run)[keep:] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return path


def latest_checkpoint(run: Path) -> Path:
    """The newest checkpoint file of a run (not yet verified: `restore_newest` verifies);
    `GankitError` naming the run when it has none."""
    found = checkpoint_files(run)
    if not found:
        raise GankitError(
            f"{run}: no checkpoint in {Path(run) / CHECKPOINTS} (was the run started?)"
        )
    return found[0]


def checkpoint_inputs(run: Path) -> dict:
    """What the newest readable checkpoint of ``run`` says its nets were built for (``{}``
    where none says: a toy run, or one written before checkpoints carried it). Reads the
    headers only, and only one whose `header_digest` matches; the tensors' own check happens
    when they are restored."""
    for path in checkpoint_files(run):
        try:
            with open(path, "rb") as fh:
                n = int.from_bytes(fh.read(8), "little")
                if not 0 < n <= 100_000_000:
                    continue
                meta = json.loads(fh.read(n)).get("__metadata__") or {}
            if meta.get(HEADER_DIGEST) != header_digest(meta):
                continue  # an edited header: its tensors are not read either
            inputs = json.loads(meta.get("inputs", "{}"))
        except (OSError, ValueError, AttributeError, RecursionError):
            continue
        if isinstance(inputs, dict):
            return inputs
    return {}


def _metadata(data: bytes) -> dict[str, str]:
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    meta = header.get("__metadata__") or {}
    return meta if isinstance(meta, dict) else {}


def load_checkpoint(path: Path) -> tuple[int, dict[str, torch.Tensor], dict]:
    """(step, tensors, optimizer metadata) of a checkpoint file, verified: a safetensors file of
    gankit's format, whose tensors match their sha256 and hold only finite numbers. Anything
    else is a `GankitError` naming the file (nothing in it is ever executed)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CHECKPOINT_BYTES:
            raise GankitError(f"{path}: {size} bytes is too large for a gankit checkpoint")
        data = path.read_bytes()
        if len(data) < 8:
            raise GankitError(f"{path}: not a gankit checkpoint (truncated: {len(data)} bytes)")
        tensors = load_tensors(data)
        metadata = _metadata(data)
        if metadata.get("format", CHECKPOINT_FORMAT) != CHECKPOINT_FORMAT:
            shown = repr(metadata["format"])[:60]
            raise GankitError(f"{path}: not a gankit checkpoint (format {shown})")
        step, extra = int(metadata["step"]), json.loads(metadata["optimizers"])
        if step < 0 or not isinstance(extra, dict):
            raise ValueError("bad step or optimizer metadata")
    except GankitError:
        raise
    except (SafetensorError, OSError, KeyError, ValueError, TypeError, RecursionError) as exc:
        reason = one_line(exc)[:200] or type(exc).__name__
        raise GankitError(f"{path}: not a readable gankit checkpoint ({reason})") from None
    _verify(path, metadata, tensors, step)
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise GankitError(f"{path}: checkpoint holds non-finite values in {name}")
    return step, tensors, extra


def _verify(path: Path, metadata: dict, tensors: dict[str, torch.Tensor], step: int) -> None:
    """Both digests of a checkpoint, and the step its name says: `GankitError` naming the
    file and what does not match (a checkpoint without its digests is damaged too: it was
    written by an older gankit, or edited)."""
    digest, head = metadata.get("sha256"), metadata.get(HEADER_DIGEST)
    if not isinstance(digest, str):
        raise GankitError(f"{path}: damaged checkpoint (it has no sha256 of its tensors)")
    if digest != tensor_digest(tensors):
        raise GankitError(f"{path}: damaged checkpoint (its tensors do not match their sha256)")
    if not isinstance(head, str):
        raise GankitError(
            f"{path}: damaged checkpoint (no {HEADER_DIGEST} covers its step and optimizer "
            "settings: written by an older gankit, or edited)"
        )
    if head != header_digest(metadata):
        raise GankitError(
            f"{path}: damaged checkpoint (its step, optimizer settings or other metadata do not "
            f"match their {HEADER_DIGEST})"
        )
    named = _STEP_FILE.fullmatch(path.name)
    if named and int(named.group(1)) != step:
        raise GankitError(
            f"{path}: damaged checkpoint (its name says step {named.group(1)}, its metadata "
            f"step {step})"
        )


#: the module name of G's sampling EMA in a run's checkpoints (``model.ema > 0``)
GENERATOR_EMA = "G_ema"


def sampling_generator(tensors: dict[str, torch.Tensor]) -> str:
    """The module name a loaded run's generator restores from: `GENERATOR_EMA` where the
    checkpoint kept G's EMA (what the run evaluated and samples from), else ``"G"``."""
    prefix = f"{GENERATOR_EMA}."
    return GENERATOR_EMA if any(k.startswith(prefix) for k in tensors) else "G"


def restore(
    tensors: dict[str, torch.Tensor],
    extra: dict,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rngs: dict[str, torch.Generator],
    source: Path | str = "checkpoint",
) -> None:
    """Load modules (strictly), optimizers and RNG streams from a checkpoint's tensors;
    `GankitError` naming ``source`` when they do not fit (another config's checkpoint)."""
    try:
        for name, module in modules.items():
            prefix = f"{name}."
            state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            module.load_state_dict(state, strict=True)
        for name, opt in optimizers.items():
            opt.load_state_dict(_unflatten_optimizer(name, tensors, extra[name]))
        for name, gen in rngs.items():
            gen.set_state(tensors[f"rng.{name}"])
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        reason = one_line(exc)[:200] or type(exc).__name__
        raise GankitError(f"{source}: does not fit this run's nets ({reason})") from None


def restore_newest(
    run: Path, apply: Callable[[Path, dict[str, torch.Tensor], dict], None]
) -> tuple[int, Path]:
    """Load the newest intact checkpoint of ``run`` and ``apply(path, tensors, extra)`` it;
    returns (step, path). A damaged checkpoint (truncated, corrupt, not fitting) is skipped
    for the next older one with a one-line `GankitWarning` naming it; `GankitError` when none
    is intact (naming each) or there is none."""
    files = checkpoint_files(run)
    if not files:
        latest_checkpoint(run)  # raises, naming the run
    problems: list[str] = []
    for path in files:
        try:
            step, tensors, extra = load_checkpoint(path)
            apply(path, tensors, extra)
        except GankitError as exc:
            problems.append(str(exc))
            continue
        for problem in problems:
            warnings.warn(f"{problem}; skipped for {path.name}", GankitWarning, stacklevel=2)
        return step, path
    raise GankitError(f"{run}: no intact checkpoint ({'; '.join(problems)})")


def nonfinite_tensor(modules: dict[str, nn.Module]) -> str | None:
    """The first parameter or buffer of ``modules`` holding a non-finite value
    (``"G.net.0.weight"``), or None when all are finite (one device sync when they are)."""
    named = [
        (f"{name}.{key}", value)
        for name, module in modules.items()
        for key, value in [*module.named_parameters(), *module.named_buffers()]
        if value.is_floating_point()
    ]
    if not named:
        return None
    flags = torch.stack([torch.isfinite(v.detach()).all() for _, v in named])
    if bool(flags.all()):
        return None
    return named[int((~flags).nonzero()[0])][0]
