"""What a toy run's evaluations cost, as a share of the run: the exact metrics against the
training steps between two of them, measured in the same process.

For each preset (default: gaussian-1d, ring-8, grid-25), the script builds the preset's
loop (nets, optimizers, data and noise streams, as `gankit train` does, without callbacks)
and its `ToyEvaluator`, then times, in alternating rounds:

1. ``steps``: ``log.eval_every`` calls of `Loop.train_step` at the preset's logging cadence;
2. ``eval``: one evaluation as the trainer's callback runs it (``log.eval_samples`` samples of G,
   the exact metrics of `gankit.metrics.toy.toy_metrics`, D's overfitting read-out where the
   preset has a fixed training set).

It prints the median seconds of each and the evaluation's share of a run's time,
``eval / (eval + steps)`` (target <= 15 %, the images' target); and, for the 1-D presets, the
metrics of 100,000 samples alone (the size the final evaluation of the demo's slow test reads).
Both wall-clock and CPU time (``time.process_time``) are kept; the share uses CPU time, less
sensitive to a shared machine's load.

    python benchmarks/toy_eval_cost.py [--presets gaussian-1d,ring-8,grid-25] [--rounds 5]
        [--threads 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gankit.config import resolve
from gankit.data.sources import build_data
from gankit.eval.toy import ToyEvaluator
from gankit.metrics.divergences import toy_metrics
from gankit.recipes.gan import build_models_for, eval_state, gan_loop

TARGET_SHARE = 0.15
CPU = torch.device("cpu")
LARGE_SAMPLE = 100_000
PRESETS = ("gaussian-1d", "ring-8", "grid-25")


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def build(preset: str, out: str):
    """The preset's loop (no callbacks) and its evaluator, as `gankit train` makes them."""
    cfg = resolve(preset)
    data = build_data(cfg)
    G, D = build_models_for(cfg, data)
    return cfg, data, gan_loop(cfg, data.source, G, D, out, CPU)


def measure(preset: str, rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="gankit-bench-") as out:
        cfg, data, trainer = build(preset, out)
        evaluator = ToyEvaluator(cfg, data)
        every, log_every = cfg.log.eval_every, cfg.log.every

        def steps() -> None:
            for _ in range(every):
                trainer.train_step(log=(trainer.step + 1) % log_every == 0)

        def evaluate() -> None:
            evaluator(
                eval_state(trainer.trainable.sampler, trainer.trainable.D, trainer.step, cfg, CPU)
            )

        evaluate()  # warm: imports, cached floors
        times: dict[str, list[tuple[float, float]]] = {"steps": [], "eval": []}
        for r in range(rounds):
            order = (("steps", steps), ("eval", evaluate))
            for name, fn in order if r % 2 == 0 else order[::-1]:
                times[name].append(timed(fn))
        row = {
            "preset": preset,
            "eval_every": every,
            "eval_samples": cfg.log.eval_samples,
            **{
                f"{name}_{kind}_s": statistics.median(t[i] for t in times[name])
                for name in times
                for i, kind in enumerate(("wall", "cpu"))
            },
        }
        row["eval_share"] = row["eval_cpu_s"] / (row["eval_cpu_s"] + row["steps_cpu_s"])
        if data.dim == 1:
            x = data.sample(LARGE_SAMPLE, torch.Generator().manual_seed(1))
            row["metrics_100k_wall_s"] = statistics.median(
                timed(lambda: toy_metrics(data.distribution, x))[0] for _ in range(rounds)
            )
        return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", default=",".join(PRESETS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch default)")
    ap.add_argument("--json", type=Path, help="also write the rows to this file")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [measure(p, args.rounds) for p in args.presets.split(",")]
    print(f"threads={torch.get_num_threads()} rounds={args.rounds} load={os.getloadavg()}")
    for r in rows:
        large = (
            f", metrics of {LARGE_SAMPLE:,} samples {r['metrics_100k_wall_s']:.3f} s"
            if "metrics_100k_wall_s" in r
            else ""
        )
        verdict = "ok" if r["eval_share"] <= TARGET_SHARE else "ABOVE TARGET"
        print(
            f"{r['preset']:<12} {r['eval_every']} steps {r['steps_cpu_s']:.2f} CPU s, one "
            f"evaluation of {r['eval_samples']} samples {r['eval_cpu_s']:.3f} CPU s: "
            f"{100 * r['eval_share']:.1f} % of the run (target <= {100 * TARGET_SHARE:.0f} %: "
            f"{verdict}){large}"
        )
    if args.json:
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        args.json.write_text(json.dumps({"date": stamp, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
