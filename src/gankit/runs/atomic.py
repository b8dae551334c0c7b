"""Writing into a run directory whole or not at all: temporary file, fsync, rename; a failed
write names its path (`RuntimeFailure`). And the test hook that pauses inside a write."""

from __future__ import annotations

import errno
import fnmatch
import io
import json
import os
import secrets
import shutil
import stat
import time
from pathlib import Path
from typing import Any

import numpy as np

from gankit.errors import GankitError, RuntimeFailure
from gankit.runs.names import LOCK

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


# ----------------------------------------------------------------------------- opening in a run

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def open_no_follow(path: Path, flags: int, mode: int = 0o666) -> int:
    """``os.open(path, flags)`` that never follows a symbolic link at ``path`` and opens only a
    regular file (a FIFO or a device is never waited on): the files of a run directory, which
    may come from someone else, cannot make gankit write, truncate or append elsewhere. A link
    or another kind of file is a `GankitError` naming ``path``; any other failure an `OSError`.
    """
    path = Path(path)
    try:
        fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and path.is_symlink():
            raise GankitError(
                f"{path}: is a symbolic link; gankit never follows a link out of a run "
                "directory (remove it)"
            ) from None
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads
            raise GankitError(f"{path}: not a regular file") from None
        raise
    try:
        kind = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(kind):
        os.close(fd)
        raise GankitError(f"{path}: not a regular file")
    return fd


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


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it
    (``/proc/self/status``: safe beside other threads); elsewhere set and restored at once."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - no /proc
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def file_mode() -> int:
    """The mode a new file gets from any tool: ``0o666`` less the umask (``0o644`` under the
    usual 022): gankit's temporary files (created 0600) get it before their rename."""
    return 0o666 & ~current_umask()


def folder_mode() -> int:
    """The mode a new folder gets from any tool: ``0o777`` less the umask."""
    return 0o777 & ~current_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written.
    A failure removes the temporary file, leaves what ``path`` held, and raises a
    `RuntimeFailure` naming ``path``. The file's mode follows the umask (`file_mode`); a
    symbolic link at ``path`` is replaced by the file, never followed."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the name is bound before the file exists: a signal that lands while it is created
        # (KeyboardInterrupt, SIGTERM's exit) still finds it in `finally`
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), file_mode())
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
        if tmp is not None and os.path.lexists(tmp):  # bound before it was created
            os.unlink(tmp)


def atomic_write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` as a compressed ``.npz`` at ``path``, written as `atomic_write_bytes` writes."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


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
