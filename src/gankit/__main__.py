"""`python -m gankit` is the `gankit` command; ``gankit.__main__:main`` is also the entry point a
console script should name, so that a Ctrl-C from the first instant is exit 130 and one line
(issue 21).

The first statements here make SIGINT and SIGTERM end the process at once, with that line
(nothing is written while `gankit.cli` imports: argparse, the config's dataclasses, ~0.1 s on
a busy machine); `gankit.cli.main` then takes over (`Interrupted`, exit 130/143), and a
command's deferred imports end at once again (`gankit.commands.startup`). What is left
unguarded is the interpreter's own start-up (site, runpy): a few tens of milliseconds in which
Python itself reports the interrupt."""

import signal
import sys

from gankit.commands.startup import exit_at_once  # the standard library and gankit.errors only

for _signum in (signal.SIGINT, signal.SIGTERM):  # only an entry point imports this module
    signal.signal(_signum, exit_at_once)

from gankit.cli import main  # noqa: E402 - after the handlers

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
