"""The run directory as a whole: finding, refusing, starting and claiming one.

Every refusal happens before anything is written or removed: `check_out` (a training run's
``--out``, before its data is built), `require_run_dir` (a run that is read), `check_writing_into`
and `check_comparison_out` (the report's pages). ``--force`` replaces a run directory only, and
moves what it held aside (``RUN/.replaced/``) until the new run has written its first
checkpoint: a run that fails before it gets the old one back (`RunClaim`)."""

from __future__ import annotations

import os
import re
import shutil
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from gankit.errors import GankitError, GankitWarning, RunBusy
from gankit.runs.atomic import atomic_write_text, clean_temporaries, is_temporary, write_failure
from gankit.runs.lock import RunLock, holds_lock, lock_holder
from gankit.runs.names import CHECKPOINTS, CONFIG, LOCK, METRICS, REPLACED, REPORT

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CHECKPOINT_GLOB = "step-*.safetensors"


# ----------------------------------------------------------------------------- paths a user gives


def shown(path: str | Path) -> str:
    """``path`` as printable text: bytes that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def run_path(value: str | Path, flag: str = "--out") -> Path:
    """``value`` as a `Path`, refused (`GankitError` naming ``flag``) when it is empty (what an
    unset shell variable gives: never read as the current directory) or not valid UTF-8 (its
    name could not be written into the run's report)."""
    if value is None or str(value) == "":
        raise GankitError(f"{flag}: an empty path (an unset variable?); give a directory")
    try:
        str(value).encode("utf-8")
    except UnicodeEncodeError:
        raise GankitError(
            f"{flag} {shown(value)}: the path is not valid UTF-8; choose a name in UTF-8"
        ) from None
    return Path(value)


def links_out_of(run: Path) -> list[Path]:
    """The symbolic links inside ``run`` that lead out of it (or nowhere), whose files gankit
    would read or write in its place (``checkpoints/latest``, a checkpoint, a snapshot, the
    config...). What ``--force`` set aside is not looked at (it is never opened)."""
    run = Path(run)
    root = os.path.realpath(run)
    found = []
    for folder, dirs, files in os.walk(run, followlinks=False):
        if Path(folder) == run and REPLACED in dirs:
            dirs.remove(REPLACED)
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if not path.is_symlink():
                continue
            target = os.path.realpath(path)
            if not is_inside(target, root) or not os.path.exists(target):
                found.append(path)
    return sorted(found)


def check_links(run: Path) -> None:
    """`GankitError` naming the first symbolic link of ``run`` that leads out of it."""
    links = links_out_of(run)
    if links:
        more = f" (and {len(links) - 1} more)" if len(links) > 1 else ""
        raise GankitError(
            f"{shown(links[0])}: a symbolic link out of the run directory {shown(run)}{more}; "
            "gankit never reads or writes through one (remove it)"
        )


# ----------------------------------------------------------------------------- the run directory


def is_run_dir(path: Path) -> bool:
    return (Path(path) / CONFIG).is_file()


def require_run_dir(path: str | Path, flag: str = "RUN") -> Path:
    """``path`` as a `Path` when it is a run directory none of whose links leads out of it;
    `GankitError` naming it otherwise (an empty path included)."""
    path = run_path(path, flag)
    if not path.is_dir():
        raise GankitError(f"{shown(path)}: no such run directory")
    if not is_run_dir(path):
        raise GankitError(f"{shown(path)}: not a run directory (no {CONFIG})")
    check_links(path)
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


def _replaceable(out: Path) -> bool:
    """Whether ``out`` is a run directory that ``--force`` may replace: it holds the files every
    run starts with (``config.toml`` and ``metrics.jsonl``, not links): a project folder that
    merely has a ``config.toml`` is not one."""
    return all(
        (out / name).is_file() and not (out / name).is_symlink() for name in (CONFIG, METRICS)
    )


def _check_replaceable(out: Path) -> None:
    """``--force`` replaces what a run directory holds, nothing else."""
    if has_content(out) and not _replaceable(out) and not (out / REPLACED).is_dir():
        raise GankitError(
            f"--out {shown(out)} holds files but is not a run directory (no {CONFIG} and "
            f"{METRICS}); --force replaces a run only: give a new or empty directory"
        )


def check_out(out: str | Path, resume: bool, force: bool) -> None:
    """Refuse an empty or non-UTF-8 ``--out``, to overwrite a run unless asked (``--force``),
    to replace what is no run (even with ``--force``), to resume what is no run or one whose
    links lead out of it, or to touch a run another process is writing: checked before
    anything is written or removed."""
    out = run_path(out, "--out")
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {shown(out)} is a file, not a directory")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise GankitError(f"--out {shown(out)}: {shown(parent)} is a file, not a directory")
    holder = lock_holder(out)
    if holder is not None:
        raise RunBusy(out, holder or None)
    if resume:
        if not is_run_dir(out):
            raise GankitError(f"--resume: {shown(out)} is not a run directory (no {CONFIG})")
        check_links(out)
        return
    if has_content(out) and not force:
        raise GankitError(
            f"--out {shown(out)} already holds files; use --resume to continue the run "
            "or --force to overwrite it"
        )
    if force:
        _check_replaceable(out)


# ----------------------------------------------------------------------------- --force, set aside


def has_checkpoint(run: Path) -> bool:
    """Whether ``run`` (or one of its sub-runs: AdaGAN's rounds) holds a checkpoint."""
    run = Path(run)
    if any((run / CHECKPOINTS).glob(_CHECKPOINT_GLOB)):
        return True
    return any(
        any((sub / CHECKPOINTS).glob(_CHECKPOINT_GLOB))
        for sub in run.iterdir()
        if sub.is_dir() and not sub.is_symlink() and not sub.name.startswith(".")
    )


def _remove(path: Path) -> None:
    """Remove ``path`` (a folder with all it holds; a link as a link, never its target)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise write_failure(path, exc) from None


def _move_aside(out: Path) -> Path:
    """Move what ``out`` holds (but its lock) into ``out/.replaced/``; where that exists
    already (a replacing run killed before its first checkpoint), what ``out`` holds besides
    it is that run's, which never checkpointed: removed, the older run stays set aside."""
    aside = out / REPLACED
    if aside.is_dir() and not aside.is_symlink():
        for p in out.iterdir():
            if p.name not in (LOCK, REPLACED):
                _remove(p)
        return aside
    if aside.exists() or aside.is_symlink():
        _remove(aside)
    try:
        aside.mkdir()
        for p in out.iterdir():
            if p.name not in (LOCK, REPLACED):
                p.rename(aside / p.name)
    except OSError as exc:
        raise write_failure(aside, exc) from None
    return aside


def _restore(out: Path, aside: Path) -> None:
    """Put back what ``--force`` set aside: what the failed new run wrote is removed."""
    for p in out.iterdir():
        if p.name not in (LOCK, REPLACED):
            _remove(p)
    try:
        for p in aside.iterdir():
            p.rename(out / p.name)
        aside.rmdir()
    except OSError as exc:
        raise write_failure(aside, exc) from None


def replaced_pending(run: Path) -> Path | None:
    """``RUN/.replaced`` while it waits for the new run's first checkpoint (None otherwise):
    a run that fails now gets the replaced one back."""
    aside = Path(run) / REPLACED
    if aside.is_dir() and not aside.is_symlink() and not has_checkpoint(run):
        return aside
    return None


def settle_replaced(run: Path) -> None:
    """Remove what ``--force`` set aside once the new run has a checkpoint."""
    aside = Path(run) / REPLACED
    if aside.is_dir() and not aside.is_symlink() and has_checkpoint(run):
        _remove(aside)


def start_run_dir(out: Path, config_text: str, force: bool) -> None:
    """A fresh run directory holding the resolved config and an empty metrics log (with
    ``force``, whatever it held is moved aside into ``RUN/.replaced/`` first, except the
    caller's lock: `RunClaim` removes it after the first checkpoint or puts it back)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(out, exc) from None
    if force and has_content(out):
        _move_aside(out)
    atomic_write_text(out / CONFIG, config_text)
    atomic_write_text(out / METRICS, "")


class RunClaim(RunLock):
    """The held lock of a run being trained. On release it settles what ``--force`` set aside
    (`REPLACED`): removed once the run has a checkpoint, put back when the run ends in a
    failure (any exception) before writing one, kept otherwise (`settle_replaced`, at the next
    claim, removes it once a checkpoint exists)."""

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.fd is not None:
                self.settle(failed=exc_type is not None)
        finally:
            self.release()

    def settle(self, failed: bool) -> None:
        aside = self.run / REPLACED
        if not aside.is_dir() or aside.is_symlink():
            return
        try:
            if has_checkpoint(self.run):
                _remove(aside)
            elif failed:
                _restore(self.run, aside)
            # else: a run stopped early without a checkpoint keeps it aside (settled later)
        except Exception as problem:  # noqa: BLE001 - never hide the failure of the run
            warnings.warn(
                f"{problem}; what --force replaced is kept in {shown(aside)}",
                GankitWarning,
                stacklevel=2,
            )


def claim_run_dir(out: Path, config_text: str | None, force: bool = False) -> RunClaim:
    """Take ``out``'s lock and, for a fresh run (``config_text`` given), start the directory;
    for a resumed one (``config_text`` None), remove what killed writes left. Returns the held
    lock (a context manager that releases it, settling what ``--force`` set aside: see
    `RunClaim`). `RunBusy` when another process holds it."""
    out = run_path(out, "--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(out, exc) from None
    lock = RunClaim(out).acquire()
    try:
        settle_replaced(out)
        if config_text is not None:
            if has_content(out) and not force:  # written by another process since check_out
                raise GankitError(
                    f"--out {shown(out)} already holds files; use --resume or --force"
                )
            if force:
                _check_replaceable(out)
            start_run_dir(out, config_text, force)
        else:
            check_links(out)
            clean_temporaries(out)
    except BaseException:
        lock.release()
        raise
    return lock


# ----------------------------------------------------------------------------- writing into runs


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def enclosing_runs(path: Path) -> list[Path]:
    """The run directories ``path`` is in, innermost first (``path`` itself excluded)."""
    absolute = Path(os.path.abspath(path))
    return [folder for folder in absolute.parents if is_run_dir(folder)]


@contextmanager
def writing_into(run: Path):
    """Hold ``run``'s lock while writing into it: `RunBusy` (exit 1, naming the holder) when
    another process trains it or a run it belongs to (an AdaGAN round): nothing writes into a
    locked run. Where this process holds the lock already (a training run writing its own
    report), there is nothing to take."""
    run = Path(run)
    for outer in enclosing_runs(run):
        holder = None if holds_lock(outer) else lock_holder(outer)
        if holder is not None:
            raise RunBusy(outer, holder or None)
    if holds_lock(run) or any(holds_lock(outer) for outer in enclosing_runs(run)):
        yield
        return
    with RunLock(run):
        yield


def check_report_target(run: Path, target: Path) -> None:
    """A run's page goes into its own run directory or outside every other run: it never
    replaces another run's ``report.html``; neither path may be empty or not UTF-8."""
    run_path(run, "RUN")
    run_path(target, "--out")
    folder = Path(target).parent
    if is_run_dir(folder) and not _same(folder, run):
        raise GankitError(
            f"--out {shown(target)}: {shown(folder)} is another run directory; the page would "
            f"replace that run's own {REPORT} (write it elsewhere)"
        )
    for outer in enclosing_runs(target):
        holder = None if holds_lock(outer) else lock_holder(outer)
        if holder is not None:
            raise RunBusy(outer, holder or None)


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies in it (links resolved)."""
    a, b = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([a, b]) == b


def check_comparison_out(out_dir: str | Path) -> Path:
    """Where a comparison page may go: a folder that is no run directory (the page would
    replace that run's own ``report.html``), given by a non-empty UTF-8 path; checked before
    anything is read or written. Returns it as a `Path`."""
    out_dir = run_path(out_dir, "--out")
    if out_dir.exists() and not out_dir.is_dir():
        raise GankitError(f"--out {shown(out_dir)} is a file, not a directory")
    if is_run_dir(out_dir):
        raise GankitError(
            f"--out {shown(out_dir)} is a run directory: the comparison page would replace "
            f"its own {REPORT}; give a folder that is no run"
        )
    return out_dir
