"""One writer per run directory: ``RUN/.lock`` holds the writer's process id under an flock;
a lock whose process is gone is taken over."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from gankit.errors import GankitError, GankitWarning, RunBusy
from gankit.runs.atomic import atomic_write_text, file_mode, open_no_follow, write_failure
from gankit.runs.names import LOCK

try:  # POSIX: the lock is an flock, released by the kernel when its process dies
    import fcntl
except ImportError:  # pragma: no cover - Windows: a pid file, judged by whether its pid runs
    fcntl = None

# ----------------------------------------------------------------------------- the lock


def read_pid(path: Path) -> int | None:
    """The process id a lock file names (None: none, unreadable, a link or no regular file)."""
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except (OSError, GankitError):
        return None
    try:
        text = os.read(fd, 64).decode(errors="replace").split()
        return int(text[0]) if text else None
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


#: the run directories this process holds the lock of (by process id: a forked child holds none)
_HELD: set[tuple[int, str]] = set()


def _key(run: Path) -> tuple[int, str]:
    return os.getpid(), os.path.realpath(run)


def holds_lock(run: Path) -> bool:
    """Whether this process holds ``run``'s lock (a `RunLock` it acquired and not released)."""
    return _key(run) in _HELD


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
    if path.is_symlink() or not path.is_file():
        return None  # a link is refused by whoever would take the lock (`RunLock.acquire`)
    pid = read_pid(path)
    if pid is not None and pid == os.getpid():
        pid = None  # our own (an in-process test): the flock below decides
    elif pid is not None and not pid_alive(pid):
        return None
    if fcntl is None:  # pragma: no cover
        return pid
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except (OSError, GankitError):
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
            try:  # never through a link: a hostile run cannot make us truncate a file elsewhere
                fd = open_no_follow(self.path, os.O_RDWR | os.O_CREAT, file_mode())
            except OSError as exc:
                raise write_failure(self.path, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunBusy(self.run, read_pid(self.path)) from None
            # the holder we waited for may have removed the file: lock the file at the path
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = read_pid(self.path)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise write_failure(self.path, exc) from None
        self.fd = fd
        _HELD.add(_key(self.run))
        if previous and previous != os.getpid():
            warnings.warn(
                f"{self.path}: took over the lock left by process {previous}, which no longer "
                "holds it (killed?)",
                GankitWarning,
                stacklevel=2,
            )
        return self

    def _acquire_pidfile(self) -> RunLock:  # pragma: no cover - no fcntl
        pid = read_pid(self.path)
        if pid and pid != os.getpid() and pid_alive(pid):
            raise RunBusy(self.run, pid)
        atomic_write_text(self.path, f"{os.getpid()}\n")
        self.fd = -1
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        _HELD.discard(_key(self.run))
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
