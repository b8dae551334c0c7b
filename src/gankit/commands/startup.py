"""A command's start: its deferred imports, during which a signal ends the process at once."""

from __future__ import annotations

import contextlib
import os
import sys

from gankit.errors import signal_name, signals_handled_by

#: the signals that end a command (``gankit.cli`` maps them to 130 and 143)


@contextlib.contextmanager
def starting():
    """Around a command's deferred imports: SIGINT or SIGTERM ends the process at once, with
    one line (``gankit: interrupted by SIGINT``) and exit 128 + the signal (issue 21).

    Raising `~gankit.errors.Interrupted` there, as the CLI does once a command works, is not
    safe: the exception lands inside torch's or numpy's import, whose C code can turn it into an
    ImportError that a library catches, leaving a half-imported module and an internal error
    later. Nothing has been written yet, so there is nothing to clean up."""
    with signals_handled_by(exit_at_once):
        yield


def exit_at_once(signum, frame) -> None:
    """A signal handler: one line naming the signal, and exit 128 + it at once (nothing has
    been written yet; `gankit.__main__` installs it first of all)."""
    line = f"gankit: interrupted by {signal_name(signum)}\n"
    try:
        sys.stdout.flush()
        sys.stderr.write(line)
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - a closed or odd stderr: write to fd 2 directly
        with contextlib.suppress(OSError):
            os.write(2, line.encode())
    os._exit(128 + signum)
