"""Samples per second of every model family at one batch size, measured in the same run (issue
25, "Performance"): the claim that a GAN samples far faster than a pixel-by-pixel model,
measured instead of repeated.

Each model is timed through `LoadedRun.sample(n, seed)`, what `gankit sample` calls: the
GAN's one pass of G, a VAE's decoder, PixelCNN's H * W passes. ``--batch`` samples (default
1,000) per call, the best of ``--repeats`` calls (after one warm-up call of 10 samples), on
``--threads`` torch threads. Rates are reported beside the GAN's as ``gan_ratio`` = the GAN's
rate / the family's (how many times slower).

Which models: the run directories given as arguments; without any, one per registered family
(`gankit.recipes.RECIPES`, AdaGAN's rounds aside): the preset ``<family>-digits`` (the GAN's
is ``digits``), trained in a temporary folder for ``--train-steps`` steps without evaluation
(how fast a model samples does not depend on how well it was trained). A family registered
later with a ``-digits`` preset is measured without a change here. With run directories, the
GAN's reference is the first GAN run given, else the ``digits`` preset trained as above.

    python benchmarks/sampling_speed.py [RUN ...] [--batch 1000] [--repeats 3] [--threads 1]
        [--train-steps 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

from gankit import api
from gankit import config as config_mod
from gankit.recipes import RECIPES, recipe_name

#: registry entries that are not a family of their own (AdaGAN: the GAN trained in rounds)
NOT_A_FAMILY = ("adagan",)
GAN_PRESET = "digits"


def preset_of(family: str) -> str:
    """The digits preset of ``family``: ``digits`` for the GAN, ``<family>-digits`` else."""
    return GAN_PRESET if family == "gan" else f"{family}-digits"


def family_presets() -> list[tuple[str, str]]:
    """``(family, preset)`` of every registered family that has a digits preset."""
    names = set(config_mod.preset_names())
    return [
        (family, preset_of(family))
        for family in RECIPES
        if family not in NOT_A_FAMILY and preset_of(family) in names
    ]


def train_tiny(preset: str, out: Path, steps: int) -> Path:
    """``preset`` trained for ``steps`` steps into ``out``, without evaluation."""
    overrides = [
        f"train.steps={steps}",
        f"train.checkpoint_every={steps}",
        "log.eval_every=0",
        "log.every=1",
    ]
    config = config_mod.resolve(preset=preset, overrides=overrides)
    return api.train(config, out, progress=False)


def time_sampling(run_dir: Path, batch: int, repeats: int) -> dict:
    """``LoadedRun.samples_per_second``: the best of ``repeats`` timed calls of
    ``run.sample(batch)`` (one warm-up call first)."""
    run = api.load_run(run_dir)
    rate = run.samples_per_second(batch, repeats)
    return {
        "run": str(run_dir),
        "family": recipe_name(run.config),
        "preset": run.config.preset,
        "shape": list(run.sample(1, seed=0).shape[1:]),
        "batch": batch,
        "seconds": batch / rate,
        "samples_per_second": rate,
    }


def measure(runs_given: list[Path], batch: int, repeats: int, steps: int, work: Path) -> list:
    """Every model's timing (the GAN's first), with ``gan_ratio``; a family whose preset fails
    to train or sample is reported on stderr and left out, the others measured."""
    targets: list[Path] = list(runs_given)
    if not targets:
        for family, preset in family_presets():
            print(f"training {preset} ({family}) for {steps} steps", file=sys.stderr, flush=True)
            try:
                targets.append(train_tiny(preset, work / preset, steps))
            except Exception as exc:  # noqa: BLE001 -- one family's failure is reported, not fatal
                print(f"{preset}: not measured: {exc}", file=sys.stderr, flush=True)
    rows = []
    for run_dir in targets:
        try:
            rows.append(time_sampling(run_dir, batch, repeats))
        except Exception as exc:  # noqa: BLE001
            print(f"{run_dir}: not measured: {exc}", file=sys.stderr, flush=True)
            continue
        print(f"{run_dir}: {rows[-1]['samples_per_second']:.1f}/s", file=sys.stderr, flush=True)
    gan = next((r for r in rows if r["family"] == "gan"), None)
    if gan is None:
        print(f"training {GAN_PRESET} (gan) as the reference", file=sys.stderr, flush=True)
        gan = time_sampling(train_tiny(GAN_PRESET, work / GAN_PRESET, steps), batch, repeats)
        rows.insert(0, gan)
    rows.sort(key=lambda r: r is not gan)
    for r in rows:
        r["gan_ratio"] = gan["samples_per_second"] / r["samples_per_second"]
    return rows


def table(rows: list[dict]) -> str:
    head = (
        f"{'family':<17}{'preset':<26}{'shape':<10}{'s/batch':>10}{'samples/s':>12}{'x slower':>10}"
    )
    lines = [head]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        lines.append(
            f"{r['family']:<17}{r['preset'] or '-':<26}{shape:<10}{r['seconds']:>10.4f}"
            f"{r['samples_per_second']:>12.1f}{r['gan_ratio']:>10.3g}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "runs",
        nargs="*",
        type=Path,
        help="run directories (default: train each family's digits preset)",
    )
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="gankit-sampling-") as tmp:
        rows = measure(args.runs, args.batch, args.repeats, args.train_steps, Path(tmp))
    print(table(rows))
    if args.json:
        meta = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "threads": args.threads,
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
        }
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
