"""`gankit compare RUN [RUN ...] [--json]`: a metrics table across runs, seeds grouped."""

from __future__ import annotations

import json

from gankit.commands.startup import starting

NAME = "compare"
HELP = (
    "a table of final metrics across runs; runs that differ only in train.seed are grouped "
    "(mean, std and the t-interval of the mean)"
)


def add_arguments(p):
    p.add_argument("runs", metavar="RUN", nargs="+", help="run directories")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object {runs, groups} (non-finite values as null)",
    )


def run(args) -> int:
    with starting():
        from gankit.report.groups import comparison, comparison_text  # deferred: scipy, torch

    result = comparison(args.runs)
    if args.json:
        print(json.dumps(result, sort_keys=True, allow_nan=False))
    else:
        print(comparison_text(result))
    return 0
