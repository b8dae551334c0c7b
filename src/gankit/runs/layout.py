"""The run directory as a whole: finding, refusing, starting and claiming one."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from gankit.errors import GankitError, RunBusy
from gankit.runs.atomic import atomic_write_text, clean_temporaries, is_temporary, write_failure
from gankit.runs.lock import RunLock, lock_holder
from gankit.runs.names import CONFIG, LOCK, METRICS

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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
