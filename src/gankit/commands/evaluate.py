"""`gankit evaluate RUN [--json]`: the metrics that fit the run's data."""

from __future__ import annotations

import json
import sys

from gankit.commands import flags
from gankit.commands.startup import starting
from gankit.config import MAX_SAMPLES

NAME = "evaluate"
HELP = "evaluate a run against its data (toys: exact divergences against the known density)"


def add_arguments(p):
    p.add_argument("run", metavar="RUN")
    p.add_argument(
        "-n",
        type=flags.integer("-n", 2, MAX_SAMPLES),
        default=None,
        help="samples to draw (default log.final_samples)",
    )
    p.add_argument("--seed", type=flags.SEED, default=0, help="seed of the samples drawn")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


def run(args) -> int:
    with starting():
        from gankit import api  # deferred: torch (~2 s); evaluate --help stays light
        from gankit.eval.base import draw_lines  # deferred: torch

    loaded = api.load_run(args.run)
    log = loaded.config.log
    draws = f", FID over {log.final_draws} draws" if loaded.data.kind == "images" else ""
    if sys.stderr.isatty():  # on a terminal: an error stays the only line of a log
        print(
            f"gankit: evaluating {args.run} at step {loaded.step}: "
            f"{args.n or log.final_samples} samples{draws}",
            file=sys.stderr,
            flush=True,
        )
    metrics = api.evaluate_run(
        args.run, n=args.n, seed=args.seed, loaded=loaded, on_draw=draw_lines("evaluate")
    )
    if args.json:
        print(json.dumps(metrics, sort_keys=True))
    else:
        width = max(len(k) for k in metrics)
        for key, value in metrics.items():
            shown = f"{value:.6g}" if isinstance(value, float) else str(value)
            print(f"{key:<{width}}  {shown}")
    return 0
