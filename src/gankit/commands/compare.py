"""`gankit compare RUN [RUN ...] [--speed [BATCH]] [--metrics KEYS] [--json | --markdown]`: a
metrics table across runs, seeds grouped; ``--speed`` adds each model's samples per second,
measured here, one run after another, so the rates compare on the same machine state."""

from __future__ import annotations

import json
import sys

from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "compare"
HELP = (
    "a table of final metrics across runs; runs that differ only in train.seed are grouped "
    "(mean, std and the t-interval of the mean)"
)


def add_arguments(p):
    p.add_argument("runs", metavar="RUN", nargs="+", help="run directories")
    p.add_argument(
        "--speed",
        type=int,
        nargs="?",
        const=1000,
        metavar="BATCH",
        help="also measure samples per second: each run's model loaded and timed drawing BATCH "
        "samples (default 1000; the best of 3 calls) in this process",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads while --speed times the models (0 = torch's default)",
    )
    p.add_argument(
        "--metrics",
        metavar="KEYS",
        help="only these metrics, comma-separated, in this order (e.g. "
        "fid_digits,precision_digits,train_seconds,samples_per_second)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object {runs, groups} (non-finite values as null)",
    )
    out.add_argument(
        "--markdown",
        action="store_true",
        help="print one markdown table: a row per group, mean ± std over its seeds",
    )


def add_sampling_rates(load_run, loaded, batch: int) -> None:
    """Add ``samples_per_second`` to the metrics of each run of ``loaded`` (`load_runs`'s): its
    model loaded by ``load_run`` from the run's path and timed
    (`gankit.recipes.base.LoadedRun.samples_per_second`), a line on stderr per run timed."""
    for run in loaded:
        rate = load_run(run.path).samples_per_second(batch)
        run.metrics["samples_per_second"] = rate
        print(f"{run.path}: {rate:.4g} samples/s", file=sys.stderr, flush=True)


def run(args) -> int:
    if args.speed is not None and args.speed < 1:
        raise GankitError(f"--speed {args.speed}: give a batch of at least 1 sample")
    if args.threads < 0:
        raise GankitError(f"--threads {args.threads}: give 0 (torch's default) or more")
    with starting():
        import torch  # deferred: torch, for --speed's thread count

        from gankit import api  # deferred: torch and the recipes, for --speed's models
        from gankit.report.groups import (  # deferred: scipy, matplotlib
            check_metric_keys,
            comparison_markdown,
            comparison_of,
            comparison_text,
            load_runs,
        )

    keys = [k.strip() for k in args.metrics.split(",") if k.strip()] if args.metrics else None
    loaded = load_runs(args.runs)
    if keys:  # a bad key is refused before any model is timed
        measured = ("samples_per_second",) if args.speed is not None else ()
        check_metric_keys(loaded, keys, measured=measured)
    if args.speed is not None:
        if args.threads:
            torch.set_num_threads(args.threads)
        add_sampling_rates(api.load_run, loaded, args.speed)
    result = comparison_of(loaded, keys)
    if args.json:
        print(json.dumps(result, sort_keys=True, allow_nan=False))
    elif args.markdown:
        print(comparison_markdown(result))
    else:
        print(comparison_text(result))
    return 0
