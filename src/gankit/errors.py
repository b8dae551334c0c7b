"""What can go wrong, as exceptions; `gankit.cli` maps each to the exit code of the `gankit`
command, in one place (`gankit.cli.EXIT_CODES`; `docs/reliability.md` has the table).

==========  =====================================================================================
exit code   exception
==========  =====================================================================================
0           success
1           `RuntimeFailure`: the environment failed (a full disk, an unwritable directory or
            read-only file system, a run directory busy with another process: `RunBusy`), or
            an unexpected error (a bug: ``--debug`` shows its traceback)
2           `GankitError` (alias `UsageError`): bad input -- a config key, a value, a file, a
            flag; refused before anything is written
3           `Diverged`: training produced a non-finite loss or weight; the run directory keeps
            its last good checkpoint and its diagnosis
130, 143    `Interrupted` by SIGINT (Ctrl-C) or SIGTERM: 128 + the signal's number; a training
            run wrote a checkpoint at the step it reached first
==========  =====================================================================================

Every message is one line that names the culprit (a key's dotted path, a file, a value).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DIVERGED = 3


class GankitError(ValueError):
    """Bad input (a config key, a file, a value): the message names the culprit in one line."""


#: the same class under the name of its exit code's meaning
UsageError = GankitError


class RuntimeFailure(RuntimeError):
    """The environment failed where the input was fine: a write that found the disk full, the
    file system read-only or the directory unwritable. The message names the path."""


class RunBusy(RuntimeFailure):
    """Another live process holds the run directory (``RUN/.lock``); names its process id."""

    def __init__(self, run: Path, pid: int | None):
        self.run, self.pid = Path(run), pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"{run} is in use by {holder} (it holds {Path(run) / '.lock'}); wait for it to "
            "finish or stop it, then try again"
        )


class Diverged(Exception):
    """Training stopped at a non-finite loss or weight. ``step``: where; ``message``: the
    diagnosis in one line (the values, the last finite ones, the kept checkpoint, advice)."""

    def __init__(self, message: str, run: Path | None = None, step: int | None = None):
        super().__init__(message)
        self.run, self.step = run, step


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped the command. Raised by a training run after it wrote a
    checkpoint at the step it reached (``step``, ``checkpoint``), or at once elsewhere.

    A `KeyboardInterrupt`, so that ``except Exception`` does not swallow it and every atomic
    write still removes its temporary file."""

    def __init__(
        self,
        signum: int = signal.SIGINT,
        step: int | None = None,
        checkpoint: Path | None = None,
        run: Path | None = None,
        note: str = "",
    ):
        super().__init__(signal_name(signum))
        self.signum, self.step, self.checkpoint, self.run, self.note = (
            int(signum),
            step,
            checkpoint,
            run,
            note,
        )

    def describe(self) -> str:
        """One line: which signal, where training stopped, how to continue."""
        text = f"interrupted by {signal_name(self.signum)}"
        if self.step is not None:
            text += f" at step {self.step}"
        if self.checkpoint is not None:
            text += f"; checkpoint {self.checkpoint} written"
        if self.note:
            text += f"; {self.note}"
        if self.run is not None:
            text += f"; continue with: gankit train --out {self.run} --resume"
        return text


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class GankitWarning(UserWarning):
    """Something was worked around (a damaged checkpoint skipped, a stale lock taken over): the
    CLI prints it as one ``gankit: warning:`` line."""


@contextlib.contextmanager
def signals_handled_by(handler: Callable) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handler`` inside the block, and to the handlers they had
    before after it (only the main thread can install handlers: elsewhere nothing changes)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):
                previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
