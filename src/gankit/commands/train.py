"""`gankit train`: train a preset or a config file into a run directory."""

from __future__ import annotations

from gankit import api, config
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
    p.add_argument("--seed", type=int, help="shorthand for --set train.seed=N")
    p.add_argument("--steps", type=int, help="shorthand for --set train.steps=N")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set game.loss=hinge (repeatable)",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--force", action="store_true", help="overwrite what --out holds")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the run directory")


def run(args) -> int:
    if args.resume and not args.out:
        raise GankitError("--resume needs --out RUN (the run to continue)")
    if args.resume and (
        args.preset
        or args.config
        or args.overrides
        or args.seed is not None
        or args.steps is not None
    ):
        raise GankitError(
            "--resume continues RUN/config.toml as it is; drop --preset/--config/"
            "--set/--seed/--steps"
        )
    cfg = config.resolve(
        args.preset,
        args.config,
        args.overrides,
        {"train.seed": args.seed, "train.steps": args.steps},
    )
    out = api.train(cfg, args.out, resume=args.resume, force=args.force, progress=not args.quiet)
    if not args.quiet:
        summary = api.summary_lines(out)
        for line in summary:
            print(line)
    print(f"run directory: {out}")
    return 0
