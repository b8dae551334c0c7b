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
        help="override a config key, e.g. --set game.loss=hinge (repeatable; with --resume it "
        "changes the stored config, e.g. a lower learning rate after a divergence)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its newest intact checkpoint",
    )
    p.add_argument("--force", action="store_true", help="overwrite what --out holds")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the run directory")


def run(args) -> int:
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
    if not args.quiet:
        summary = api.summary_lines(out)
        for line in summary:
            print(line)
    print(f"run directory: {out}")
    return 0
