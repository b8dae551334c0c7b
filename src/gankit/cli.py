"""The `gankit` command: thin. Each sub-command lives in `gankit.commands.<name>` and defines
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; this module only builds the
parser from them, dispatches, and turns a `GankitError` into a one-line error with exit code 2."""

from __future__ import annotations

import argparse
import sys

from gankit.commands import compare, evaluate, features, fid, presets, report, sample, train
from gankit.errors import GankitError

COMMANDS = (train, sample, evaluate, report, compare, fid, features, presets)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gankit",
        description="Train, diagnose and evaluate GANs and classical generative models.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except GankitError as exc:
        print(f"gankit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
