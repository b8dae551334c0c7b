"""The `gankit` command: thin. Each sub-command lives in `gankit.commands.<name>` and defines
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; this module only builds the
parser from them, dispatches, and maps every failure to one line on stderr and its exit code,
here and only here (`EXIT_CODES`, `docs/reliability.md`):

====  =========================================================================================
0     success
1     a runtime failure: a full disk, an unwritable directory or read-only file system, a run
      directory in use by another process, or an unexpected error (a bug)
2     a usage error: a bad flag, config key, value or file (nothing was written)
3     training diverged (the run keeps its last good checkpoint and its diagnosis)
130   interrupted by SIGINT (Ctrl-C); a training run checkpointed the step it reached
141   stdout was closed by its reader (``gankit presets | head -1``): the command ends quietly,
      as ``cat`` or ``git log`` killed by SIGPIPE do
143   interrupted by SIGTERM; likewise
====  =========================================================================================

No traceback is shown unless ``gankit --debug ...`` (or ``GANKIT_DEBUG=1``); gankit's warnings
(a damaged checkpoint skipped, a stale lock taken over) are one ``gankit: warning:`` line each;
the libraries' own warnings are shown with ``--debug`` only.

Start-up is light (issue 22): this module and every command's parser import no torch, scipy or
matplotlib; a command imports what does its work when it runs (`gankit.commands`), inside
`main`, whose handlers already turn a Ctrl-C during those imports into exit 130 and one line
(issue 21). ``tests/test_cli_startup.py`` checks the import graph.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
import warnings

from gankit.commands import (
    classify,
    compare,
    encode,
    evaluate,
    features,
    fid,
    presets,
    reconstruct,
    report,
    sample,
    train,
    translate,
)
from gankit.errors import (
    EXIT_DIVERGED,
    EXIT_FAILURE,
    EXIT_USAGE,
    Diverged,
    GankitError,
    GankitWarning,
    Interrupted,
    RuntimeFailure,
    UsageError,
    signal_name,
    signals_handled_by,
)

#: the exit code when stdout's reader went away (128 + SIGPIPE, what a shell reports for a
#: command killed by it)
EXIT_PIPE = 128 + signal.SIGPIPE

COMMANDS = (
    train,
    sample,
    classify,
    translate,
    encode,
    reconstruct,
    evaluate,
    report,
    compare,
    fid,
    features,
    presets,
)

#: exception -> exit code, the first match wins (an `Interrupted` exits 128 + its signal)
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (GankitError, EXIT_USAGE),
    (Diverged, EXIT_DIVERGED),
    (RuntimeFailure, EXIT_FAILURE),
    (OSError, EXIT_FAILURE),
    (MemoryError, EXIT_FAILURE),
    (Exception, EXIT_FAILURE),
)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (a `UsageError`), not a usage block."""

    def error(self, message: str):
        prog = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        where = f"{prog}: " if prog else ""
        raise UsageError(f"{where}{message} (see {self.prog} --help)")


class _Version(argparse.Action):
    """``--version``: ``gankit 0.1.0``, read from the installed package's metadata when asked
    (importlib.metadata is not imported otherwise)."""

    def __init__(
        self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None
    ):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"gankit {version()}")
        parser.exit()


def version() -> str:
    """gankit's installed version (``pyproject.toml``'s), or ``unknown`` if not installed."""
    from importlib import metadata  # heavy import: ~50 ms, only for --version

    try:
        return metadata.version("gankit")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gankit",
        description="Train, diagnose and evaluate GANs and classical generative models.",
    )
    debug_help = "on an error, show its traceback (also GANKIT_DEBUG=1)"
    parser.add_argument("--version", action=_Version, help="print gankit's version and exit")
    parser.add_argument("--debug", action="store_true", help=debug_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
        p.set_defaults(_run=module.run)
    return parser


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def exit_code(exc: BaseException) -> int:
    """The exit code of a failure (`EXIT_CODES`)."""
    if isinstance(exc, Interrupted):
        return 128 + exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return 128 + signal.SIGINT
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return EXIT_FAILURE


def message(exc: BaseException) -> str:
    """The one line printed for a failure (after ``gankit: ``)."""
    if isinstance(exc, Interrupted):
        return exc.describe()
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted by {signal_name(signal.SIGINT)}"
    if isinstance(exc, Diverged):
        return one_line(exc)
    if isinstance(exc, (GankitError, RuntimeFailure)):
        return "error: " + one_line(exc)
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        reason = exc.strerror or one_line(exc) or type(exc).__name__
        return f"error: {where}: {reason}" if where else f"error: {reason}"
    if isinstance(exc, MemoryError):
        return "error: out of memory (ask for fewer samples, a smaller batch or smaller nets)"
    text = one_line(exc)[:500]
    return (
        f"internal error: {type(exc).__name__}{': ' + text if text else ''} "
        "(a bug: rerun with gankit --debug for the traceback and report it)"
    )


def _show_warning(msg, category, filename, lineno, file=None, line=None) -> None:
    print(f"gankit: warning: {one_line(msg)}", file=sys.stderr)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals():
    """SIGINT and SIGTERM raise `Interrupted` while a command runs (training defers them to
    the end of its step: `gankit.train.interrupts`); the previous handlers come back after."""
    with signals_handled_by(_raise_interrupted):
        yield


def _quiet_stdout() -> None:
    """After stdout's reader went away: point the process's stdout at /dev/null, so that the
    interpreter's last flush does not fail again ("Exception ignored ... BrokenPipeError")."""
    if sys.stdout is not sys.__stdout__ or sys.stdout is None:
        return  # in-process callers keep their stdout
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    """The `gankit` command (the console script's entry point, and `python -m gankit`'s):
    its exit code. A Ctrl-C at any point in it, even before its handlers are in place, is
    exit 130 and one line."""
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:  # in the instants before or after _signals() holds
        with contextlib.suppress(Exception):
            print(f"gankit: {message(exc)}", file=sys.stderr)
        return exit_code(exc)


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    debug = os.environ.get("GANKIT_DEBUG", "") not in ("", "0") or "--debug" in argv
    with _signals(), warnings.catch_warnings():
        if not debug:  # only gankit's own warnings, one line each; --debug shows every one
            warnings.showwarning = _show_warning
            warnings.simplefilter("ignore")
        warnings.simplefilter("always", GankitWarning)
        try:
            args = build_parser().parse_args(argv)
            debug = debug or getattr(args, "debug", False)
            if getattr(args, "_run", None) is None:
                names = ", ".join(m.NAME for m in COMMANDS)
                raise UsageError(f"give a command: {names} (see gankit --help)")
            code = int(args._run(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        except BrokenPipeError:  # stdout's reader went away (`| head`): end quietly
            _quiet_stdout()
            return EXIT_PIPE
        except BaseException as exc:  # noqa: BLE001 - every failure becomes one line and a code
            if debug:
                traceback.print_exception(exc)
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            print(f"gankit: {message(exc)}", file=sys.stderr)
            return exit_code(exc)


if __name__ == "__main__":
    sys.exit(main())
