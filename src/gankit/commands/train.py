"""`gankit train`: train a preset or a config file into a run directory."""

from __future__ import annotations

import json
import math
from pathlib import Path

from gankit import config
from gankit.commands import flags
from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "train"
HELP = "train a GAN (default preset: gaussian-1d) into a run directory"


def add_arguments(p):
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--preset",
        help=f"a built-in experiment (default {config.DEFAULT_PRESET}; see `gankit presets`)",
    )
    src.add_argument("--config", metavar="FILE", help="a TOML config (e.g. RUN/config.toml)")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/<preset>-<time>)")
    p.add_argument("--seed", type=flags.SEED, help="shorthand for --set train.seed=N")
    p.add_argument("--steps", type=flags.STEPS, help="shorthand for --set train.steps=N")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set game.loss=hinge (repeatable; with --resume it "
        "changes the stored config, e.g. a lower learning rate after a divergence)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its newest intact checkpoint",
    )
    p.add_argument("--force", action="store_true", help="overwrite what --out holds")
    p.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress bar and no summary: only the run directory's path, unlabelled",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="at the end, print one JSON object on stdout: {run, final_metrics, diagnosis} "
        "(non-finite numbers as null; the progress bar stays on stderr unless --quiet)",
    )


def run(args) -> int:
    with starting():
        from gankit import api  # deferred: torch (~2 s); train --help stays light

    if args.resume:
        if not args.out:
            raise GankitError("--resume needs --out RUN (the run to continue)")
        if args.preset or args.config:
            raise GankitError(
                "--resume continues RUN/config.toml; drop --preset/--config (change single keys "
                "with --set KEY=VALUE)"
            )
        if args.force:
            raise GankitError("--resume and --force contradict each other: give one of them")
        if args.seed is not None:
            raise GankitError("--resume: train.seed cannot change in a resumed run; drop --seed")
        out = api.train(
            None,
            args.out,
            resume=True,
            progress=not args.quiet,
            overrides=args.overrides,
            shorthands={"train.steps": args.steps},
        )
    else:
        cfg = config.resolve(
            args.preset,
            args.config,
            args.overrides,
            {"train.seed": args.seed, "train.steps": args.steps},
        )
        out = api.train(cfg, args.out, force=args.force, progress=not args.quiet)
    if args.json:
        print(json.dumps(result_of(out), sort_keys=True, allow_nan=False))
    else:
        if args.quiet:  # the bare path, for scripts: RUN=$(gankit train --quiet ...)
            print(out)
        else:
            for line in api.summary_lines(out):
                print(line)
            print(f"run directory: {out}")
    return 0


def result_of(out: Path) -> dict:
    """``train --json``'s object: the run directory, its final metrics and its diagnosis
    (the failures found, the checks and the one-paragraph summary), None where not written."""
    from gankit import runs  # deferred: torch (gankit.runs reads checkpoints)
    from gankit.diagnose import summary  # deferred: torch (gankit.diagnose reads toy data)

    final = _read_json(out / runs.FINAL)
    diagnosis = _read_json(out / runs.DIAGNOSIS)
    if isinstance(diagnosis, dict):
        diagnosis = {
            "summary": summary(diagnosis),
            "failures": [
                {k: f.get(k) for k in ("name", "first_step", "last_step")}
                for f in diagnosis.get("failures", [])
                if isinstance(f, dict)
            ],
            "checks": diagnosis.get("checks"),
        }
    return {"run": str(out), "final_metrics": _finite(final), "diagnosis": _finite(diagnosis)}


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _finite(value):
    """``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
