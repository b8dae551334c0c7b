"""The run directory: its layout, atomic writes, checkpoints (safetensors), resume and its lock.

```
RUN/config.toml        the fully resolved config
RUN/metrics.jsonl      one JSON object per logged step
RUN/checkpoints/       step-N.safetensors, and `latest` (a text file naming the newest)
RUN/snapshots/         step-N.npz: generated samples (and D on a grid in 1-D) at evaluation steps
RUN/diagnosis.json, RUN/report.html, RUN/tb/, RUN/*.png
RUN/.lock              while a process writes the run: its process id (flock'ed)
```
A checkpoint holds G, D, G's EMA, both optimizers' states, every RNG stream, the step and a
sha256 of its tensors, so that a resumed run continues bit for bit and a damaged file is known
as such. Nothing is pickled: a downloaded run cannot run code.

Reliability (`docs/reliability.md`): every file is written whole or not at all (temporary file,
fsync, rename; a failed write removes its temporary file and names the final path in a
`RuntimeFailure`); ``metrics.jsonl`` only ever gains whole lines (a line cut short by a kill is
skipped by `read_metrics` and dropped on resume); loading falls back from a damaged checkpoint
to the newest intact one with a `GankitWarning`; one process at a time writes a run (`RunLock`).

Test hook (never set outside tests): ``GANKIT_TEST_PAUSE``, comma-separated ``WHAT=SECONDS``,
sleeps to let a test land a kill or a signal at a chosen moment. ``WHAT`` is ``step`` (after
every training step, `pause`), ``write`` (in every atomic write, between the complete temporary
file and its rename) or a file-name glob such as ``step-*.safetensors`` (in the atomic writes of
the matching files only).
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from gankit.errors import GankitError, GankitWarning, RunBusy, RuntimeFailure

try:  # POSIX: the lock is an flock, released by the kernel when its process dies
    import fcntl
except ImportError:  # pragma: no cover - Windows: a pid file, judged by whether its pid runs
    fcntl = None

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
SNAPSHOTS = "snapshots"
LATEST = "latest"
FINAL = "final_metrics.json"
DIAGNOSIS = "diagnosis.json"
REPORT = "report.html"
LOCK = ".lock"
CHECKPOINT_FORMAT = "gankit-1"
#: a checkpoint larger than this is refused before it is read (a hostile or wrong file)
MAX_CHECKPOINT_BYTES = 16 * 2**30
#: run names that can become a directory name (`default_run_dir`): anything else becomes "-"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STEP_FILE = re.compile(r"step-(\d+)\.safetensors")


# ----------------------------------------------------------------------------- errors and hooks


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(str(text).split())


def write_failure(path: Path, exc: BaseException) -> RuntimeFailure:
    """A `RuntimeFailure` naming ``path`` for an `OSError` (or a serialiser's error) while
    writing it: the disk is full, the file system read-only, the directory unwritable."""
    if isinstance(exc, OSError):
        reason = exc.strerror or one_line(exc) or type(exc).__name__
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            reason += " (the disk is full)"
        elif exc.errno == errno.EFBIG:
            reason += " (the file size limit is reached)"
    else:
        reason = one_line(exc) or type(exc).__name__
    return RuntimeFailure(f"{path}: cannot write ({reason})")


def _pause_spec() -> list[tuple[str, float]]:
    spec = os.environ.get("GANKIT_TEST_PAUSE", "")
    out = []
    for part in spec.split(","):
        if "=" in part:
            what, seconds = part.rsplit("=", 1)
            try:
                out.append((what.strip(), float(seconds)))
            except ValueError:
                continue
    return out


def pause(what: str, name: str = "") -> None:
    """Sleep as ``GANKIT_TEST_PAUSE`` asks (tests only; see the module docstring)."""
    for key, seconds in _pause_spec():
        if key == what or (what == "write" and name and fnmatch.fnmatch(name, key)):
            time.sleep(seconds)
            return


# ----------------------------------------------------------------------------- atomic writes


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some file systems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written.
    A failure removes the temporary file, leaves what ``path`` held, and raises a
    `RuntimeFailure` naming ``path``."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        pause("write", path.name)
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise write_failure(path, exc) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented, key-sorted JSON, written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file or folder of an atomic write (of gankit's, its
    report's or its plots'), which a kill can leave behind: hidden, never a run's data."""
    return name.startswith(".") and name != LOCK and (".tmp" in name or name.startswith(".tb."))


def clean_temporaries(run: Path) -> list[Path]:
    """Remove what killed writes left in ``run`` (`is_temporary`); returns the removed paths.
    Called with the run's lock held, before a resumed run writes."""
    removed = []
    for path in sorted(Path(run).rglob(".*"), reverse=True):
        if not is_temporary(path.name):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise write_failure(path, exc) from None
    return removed


# ----------------------------------------------------------------------------- the run directory


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
    """Whether ``path`` exists and (a folder) holds anything but a lock or temporary files."""
    path = Path(path)
    if not path.exists():
        return False
    if not path.is_dir():
        return True
    return any(p.name != LOCK and not is_temporary(p.name) for p in path.iterdir())


def safe_name(name: str) -> str:
    """``name`` as one safe path component: letters, digits, ``.``, ``_`` and ``-`` (a run
    name from a config can never climb out of ``runs/``)."""
    cleaned = _NAME_UNSAFE.sub("-", str(name)).strip(".-")
    return cleaned[:80] or "run"


def default_run_dir(name: str) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>``, with a ``-N`` suffix where that already exists;
    ``name`` is made a safe file name first (`safe_name`)."""
    base = Path("runs") / f"{safe_name(name)}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, i = base, 1
    while path.exists():
        path, i = Path(f"{base}-{i}"), i + 1
    return path


def check_out(out: Path, resume: bool, force: bool) -> None:
    """Refuse to overwrite a run unless asked (``--force``), to resume what is no run, or to
    touch a run another process is writing: checked before anything is written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file, not a directory")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise GankitError(f"--out {out}: {parent} is a file, not a directory")
    holder = lock_holder(out)
    if holder is not None:
        raise RunBusy(out, holder or None)
    if resume:
        if not is_run_dir(out):
            raise GankitError(f"--resume: {out} is not a run directory (no {CONFIG})")
        return
    if has_content(out) and not force:
        raise GankitError(
            f"--out {out} already holds files; use --resume to continue the run "
            "or --force to overwrite it"
        )


def _clear(folder: Path) -> None:
    """Remove everything in ``folder`` but its lock (``--force``)."""
    for p in folder.iterdir():
        if p.name == LOCK:
            continue
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        except OSError as exc:
            raise write_failure(p, exc) from None


def start_run_dir(out: Path, config_text: str, force: bool) -> None:
    """A fresh run directory holding the resolved config and an empty metrics log (with
    ``force``, whatever it held is removed first, except the caller's lock)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(out, exc) from None
    if force:
        _clear(out)
    atomic_write_text(out / CONFIG, config_text)
    atomic_write_text(out / METRICS, "")


def claim_run_dir(out: Path, config_text: str | None, force: bool = False) -> RunLock:
    """Take ``out``'s lock and, for a fresh run (``config_text`` given), start the directory;
    for a resumed one (``config_text`` None), remove what killed writes left. Returns the held
    lock (a context manager that releases it). `RunBusy` when another process holds it."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(out, exc) from None
    lock = RunLock(out).acquire()
    try:
        if config_text is not None:
            if has_content(out) and not force:  # written by another process since check_out
                raise GankitError(f"--out {out} already holds files; use --resume or --force")
            start_run_dir(out, config_text, force)
        else:
            clean_temporaries(out)
    except BaseException:
        lock.release()
        raise
    return lock


# ----------------------------------------------------------------------------- the lock


def _read_pid(path: Path) -> int | None:
    try:
        text = Path(path).read_text(errors="replace").split()
        return int(text[0]) if text else None
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (a zombie counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def lock_holder(run: Path) -> int | None:
    """The process id holding ``RUN/.lock`` (0 when unknown), or None when no live process
    holds it (no lock file, or a stale one left by a killed process). Writes nothing."""
    path = Path(run) / LOCK
    if not path.is_file():
        return None
    pid = _read_pid(path)
    if pid is not None and pid == os.getpid():
        pid = None  # our own (an in-process test): the flock below decides
    elif pid is not None and not pid_alive(pid):
        return None
    if fcntl is None:  # pragma: no cover
        return pid
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return pid or 0
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class RunLock:
    """One writer per run directory: ``RUN/.lock`` holds the writer's process id under an
    exclusive `fcntl.flock`, which the kernel releases when the process ends in any way
    (SIGKILL included). A second writer is refused at once (`RunBusy`, naming the holder); a
    lock file left by a killed process is taken over with a `GankitWarning`. Released (and
    the file removed) by `release` or at the end of a ``with`` block."""

    def __init__(self, run: Path):
        self.run = Path(run)
        self.path = self.run / LOCK
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        if fcntl is None:  # pragma: no cover
            return self._acquire_pidfile()
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise write_failure(self.path, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunBusy(self.run, _read_pid(self.path)) from None
            # the holder we waited for may have removed the file: lock the file at the path
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = _read_pid(self.path)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise write_failure(self.path, exc) from None
        self.fd = fd
        if previous and previous != os.getpid():
            warnings.warn(
                f"{self.path}: took over the lock left by process {previous}, which no longer "
                "holds it (killed?)",
                GankitWarning,
                stacklevel=2,
            )
        return self

    def _acquire_pidfile(self) -> RunLock:  # pragma: no cover - no fcntl
        pid = _read_pid(self.path)
        if pid and pid != os.getpid() and pid_alive(pid):
            raise RunBusy(self.run, pid)
        atomic_write_text(self.path, f"{os.getpid()}\n")
        self.fd = -1
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if self.fd >= 0:
                try:
                    if os.path.samestat(os.fstat(self.fd), os.stat(self.path)):
                        self.path.unlink()
                except OSError:
                    pass
                os.close(self.fd)
            else:  # pragma: no cover
                self.path.unlink(missing_ok=True)
        finally:
            self.fd = None

    def __enter__(self) -> RunLock:
        return self if self.fd is not None else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ----------------------------------------------------------------------------- metrics.jsonl


def _row_or_none(line: bytes) -> dict | None:
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):  # a torn or foreign line (UnicodeDecodeError too)
        return None
    if not isinstance(row, dict):
        return None
    step = row.get("step")
    if "step" in row and (isinstance(step, bool) or not isinstance(step, int)):
        return None
    return row


def read_metrics(run: Path) -> list[dict[str, Any]]:
    """Every complete row of ``RUN/metrics.jsonl``: a JSON object per line, whose ``step``
    (where present) is an integer. A line cut short by a kill, or anything else that is not
    such a row (binary garbage, a list, text), is skipped, never read as data."""
    path = Path(run) / METRICS
    if not path.is_file():
        return []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GankitError(f"{path}: cannot read ({one_line(exc)})") from None
    rows = []
    for line in data.split(b"\n"):
        if line.strip():
            row = _row_or_none(line)
            if row is not None:
                rows.append(row)
    return rows


def truncate_metrics(run: Path, last_step: int) -> None:
    """Keep only the rows up to ``last_step`` (what a resumed run will write again is dropped,
    and so is any torn line)."""
    rows = [r for r in read_metrics(run) if r.get("step", -1) <= last_step]
    atomic_write_text(Path(run) / METRICS, "".join(json.dumps(r) + "\n" for r in rows))


class LineLog:
    """An append-only file of whole lines (``metrics.jsonl``): a write that fails (a full disk)
    is cut back to the last whole line and raised as a `RuntimeFailure` naming the file; a
    file whose last line was cut short by a kill gets a newline first."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd: int | None = None

    def open(self) -> LineLog:
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            size = os.fstat(self.fd).st_size
            if size:
                with open(self.path, "rb") as fh:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        os.write(self.fd, b"\n")
        except OSError as exc:
            self.close()
            raise write_failure(self.path, exc) from None
        return self

    def write(self, line: str) -> None:
        data = (line.rstrip("\n") + "\n").encode()
        size = os.fstat(self.fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self.fd, size)
            except OSError:
                pass
            raise write_failure(self.path, exc) from None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> LineLog:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


def append_metrics_row(run: Path, row: dict[str, Any]) -> None:
    """Append one line to ``RUN/metrics.jsonl`` (outside a trainer's open log)."""
    with LineLog(Path(run) / METRICS) as log:
        log.write(json.dumps(row))


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
) -> Path:
    """Write ``RUN/checkpoints/step-N.safetensors`` atomically, point ``latest`` at it, and keep
    the newest ``keep`` checkpoints. A failed write leaves every older checkpoint as it was."""
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
            raise GankitError(f"{path}: not a gankit checkpoint (format {metadata['format']!r})")
        step, extra = int(metadata["step"]), json.loads(metadata["optimizers"])
        if step < 0 or not isinstance(extra, dict):
            raise ValueError("bad step or optimizer metadata")
    except GankitError:
        raise
    except (SafetensorError, OSError, KeyError, ValueError, TypeError, RecursionError) as exc:
        reason = one_line(exc)[:200] or type(exc).__name__
        raise GankitError(f"{path}: not a readable gankit checkpoint ({reason})") from None
    digest = metadata.get("sha256")
    if digest is not None and digest != tensor_digest(tensors):
        raise GankitError(f"{path}: damaged checkpoint (its tensors do not match their sha256)")
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise GankitError(f"{path}: checkpoint holds non-finite values in {name}")
    return step, tensors, extra


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
