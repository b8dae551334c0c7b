"""`gankit report RUN [RUN ...] [--out DIR]`: RUN/report.html, or a comparison page of runs."""

from __future__ import annotations

from pathlib import Path

from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "report"
HELP = (
    "write RUN/report.html (one self-contained page), or with several runs a comparison "
    "page DIR/report.html"
)


def add_arguments(p):
    p.add_argument("runs", metavar="RUN", nargs="+", help="run directories")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where to write report.html (default RUN/ for one run; needed for several)",
    )
    p.add_argument(
        "--no-tensorboard",
        action="store_true",
        help="do not (re)write RUN/tb/ TensorBoard event files (one run only)",
    )


def run(args) -> int:
    with starting():
        from gankit.report.compare_page import write_comparison  # deferred: matplotlib, torch
        from gankit.report.run_page import write_report  # deferred: matplotlib, torch

    if len(args.runs) == 1:
        path = write_report(args.runs[0], out=args.out, tensorboard=not args.no_tensorboard)
    else:
        if not args.out:
            raise GankitError(
                f"report: comparing {len(args.runs)} runs needs --out DIR "
                "(where to write report.html)"
            )
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise GankitError(f"--out {out} is a file, not a directory")
        path = write_comparison(args.runs, out)
    print(f"report: {path}")
    return 0
