"""The remedy matrix: failure preset x remedy x seeds, on toys whose density is known.

Each cell trains a failure preset (``ring-8``, ``grid-25``: vanilla GANs that collapse;
``oscillation``: a WGAN critic on ring-8 that swings without settling) with one remedy switched on
through ``--set`` overrides, or the failure preset's remedied preset (``best``), and reads
the run's final metrics (PacGAN protocol on 2,500 samples: modes covered, % high-quality
samples, reverse KL of the high-quality histogram to the uniform; exact 2-D W1 and a kNN JS
estimate) and its training seconds. Rows show mean ± std over the seeds and how many seeds
covered every mode. Published anchors (PacGAN, Lin et al. 2018, Table 1, mean of 10 trials):
vanilla ring 6.3/8, grid 17.3/25; PacGAN2 ring 7.9/8, 95.6 %, reverse KL 0.07; PacGAN4 grid
24.8/25, 93.6 %, 0.04.

    python benchmarks/remedies.py [--presets ring-8 grid-25 oscillation] [--remedies vanilla ...]
        [--seeds 0 1 2 3 4] [--workers 2] [--steps N] [--json FILE] [--keep DIR]
    python benchmarks/remedies.py --table FILE      # the table of a (partial) --json

Runs go to a temporary folder unless ``--keep DIR``; each run uses one CPU thread and the
cells run ``--workers`` at a time, so seconds are comparable within one invocation only.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Remedy name -> (--set overrides, the preset suffix it replaces the failure preset with).
# ``{modes}`` is replaced by the toy's number of modes.
REMEDIES: dict[str, list[str]] = {
    "vanilla": [],
    "minimax": ["game.loss=minimax"],
    "wgan-clip": [
        "game.loss=wasserstein",
        "optim.name=rmsprop",
        "optim.lr_d=5e-5",
        "optim.lr_g=5e-5",
        "game.d_steps=5",
    ],
    "wgan-gp": [
        "game.loss=wasserstein",
        "game.penalties={gp=10.0}",
        "game.d_steps=5",
        "optim.beta1=0.5",
        "optim.beta2=0.9",
    ],
    "hinge": ["game.loss=hinge"],
    "least-squares": ["game.loss=least-squares"],
    "r1": ["game.penalties={r1=0.01}"],
    "r2": ["game.penalties={r2=0.01}"],
    "roth": ["game.penalties={roth=0.01}"],
    "instance-noise": ["game.instance_noise=0.3"],
    "spectral-norm": ["model.spectral_norm=true"],
    "label-smoothing": ["game.label_smoothing=0.1"],
    "feature-matching": ["game.feature_matching=1.0", "game.adversarial_g=false"],
    "minibatch-discrimination": ["model.minibatch_kernels=16"],
    "minibatch-std": ["model.minibatch_std=true"],
    "pacgan2": ["model.pack=2"],
    "pacgan4": ["model.pack=4"],
    "unrolled-5": ["game.unroll=5"],
    "generators": ["model.generators={modes}"],
    "mad-gan": ["model.generators={modes}", "game.diversity=1.0"],
    "adagan-4": ["game.boost_rounds=4"],
    "best": [],  # the failure preset's remedied preset (BEST)
}
MODES = {"ring-8": 8, "grid-25": 25, "oscillation": 8}
# the "best" remedy: the failure preset's remedied preset
BEST = {"ring-8": "ring-8-best", "grid-25": "grid-25-best", "oscillation": "oscillation-fixed"}
COLUMNS = ("modes_covered", "high_quality", "reverse_kl", "w1", "jsd")


def run_cell(preset: str, remedy: str, seed: int, root: str, steps: int | None) -> dict:
    """Train one cell in this process (one thread) and return its final metrics and seconds."""
    import torch

    from gankit import api, config

    torch.set_num_threads(1)
    name = BEST[preset] if remedy == "best" else preset
    overrides = [o.replace("{modes}", str(MODES.get(preset, 8))) for o in REMEDIES[remedy]]
    shorthands = {"train.seed": seed, "train.steps": steps}
    cfg = config.resolve(name, overrides=overrides, shorthands=shorthands)
    out = Path(root) / f"{preset}-{remedy}-{seed}"
    started = time.perf_counter()
    try:
        api.train(cfg, out, force=True, progress=False)
    except Exception as exc:  # a remedy that refuses a preset is a cell, not a crash
        return {"preset": preset, "remedy": remedy, "seed": seed, "error": str(exc)}
    seconds = time.perf_counter() - started
    metrics = json.loads((out / "final_metrics.json").read_text())
    failures = json.loads((out / "diagnosis.json").read_text())["failures"]
    row = {k: metrics.get(k) for k in COLUMNS}
    row.update(
        preset=preset,
        remedy=remedy,
        seed=seed,
        seconds=seconds,
        n_modes=metrics.get("n_modes", MODES.get(preset)),
        diagnosis=[f["name"] for f in failures],
    )
    return row


def _mean_std(values: list[float], digits: int) -> str:
    """``mean ± std`` over the finite values; undefined ones (a reverse KL without any
    high-quality sample) are counted, not averaged."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    missing = len(values) - len(finite)
    note = f" ({missing} undefined)" if missing else ""
    if not finite:
        return "undefined"
    mean = statistics.fmean(finite)
    spread = statistics.stdev(finite) if len(finite) > 1 else 0.0
    return f"{mean:.{digits}f} ± {spread:.{digits}f}{note}"


def _ordered(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["preset"], list(REMEDIES).index(r["remedy"]), r["seed"]))


def table(rows: list[dict]) -> str:
    """Markdown table, one line per (preset, remedy), mean ± std over seeds."""
    lines = [
        "| preset | remedy | seeds | all modes | modes | high quality | reverse KL | W1 | JS | "
        "s/run | diagnosed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["preset"], row["remedy"]), []).append(row)
    for (preset, remedy), cells in groups.items():
        errors = [c for c in cells if "error" in c]
        ok = [c for c in cells if "error" not in c]
        if not ok:
            lines.append(f"| {preset} | {remedy} | 0 | refused: {errors[0]['error']} |" + " |" * 7)
            continue
        full = sum(c["modes_covered"] == c["n_modes"] for c in ok)
        names = sorted({n for c in ok for n in c["diagnosis"]})
        diagnosed = [f"{n} {sum(n in c['diagnosis'] for c in ok)}/{len(ok)}" for n in names]
        lines.append(
            f"| {preset} | {remedy} | {len(ok)} | {full}/{len(ok)} | "
            f"{_mean_std([c['modes_covered'] for c in ok], 1)} | "
            f"{_mean_std([c['high_quality'] for c in ok], 3)} | "
            f"{_mean_std([c['reverse_kl'] for c in ok], 3)} | "
            f"{_mean_std([c['w1'] for c in ok if c['w1'] is not None], 3)} | "
            f"{_mean_std([c['jsd'] for c in ok if c['jsd'] is not None], 3)} | "
            f"{statistics.fmean(c['seconds'] for c in ok):.0f} | "
            f"{', '.join(diagnosed) or 'clean'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(MODES))
    parser.add_argument("--remedies", nargs="+", default=list(REMEDIES), choices=list(REMEDIES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="override train.steps")
    parser.add_argument("--json", type=Path, default=None, help="write every cell here")
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs in this folder")
    parser.add_argument("--table", type=Path, default=None, help="only print the table of a --json")
    args = parser.parse_args()
    if args.table:
        rows = json.loads(args.table.read_text())
        print(table(_ordered(rows)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        root = str(args.keep or tmp)
        # Seed-major order: an interrupted matrix still has every remedy for its first seeds.
        cells = [(p, r, s) for s in args.seeds for p in args.presets for r in args.remedies]
        with ProcessPoolExecutor(args.workers) as pool:
            futures = [pool.submit(run_cell, p, r, s, root, args.steps) for p, r, s in cells]
            rows = []
            for future in futures:
                rows.append(future.result())
                done = rows[-1]
                if args.json:  # after every cell, so a partial matrix can be tabled
                    args.json.write_text(json.dumps(rows, indent=1))
                print(
                    f"# {done['preset']} {done['remedy']} seed {done['seed']}: "
                    + (
                        done.get("error")
                        or f"{done['modes_covered']:.0f} modes, "
                        f"hq {done['high_quality']:.3f}, rkl {done['reverse_kl']:.3f}, "
                        f"{done['seconds']:.0f} s"
                    ),
                    flush=True,
                )
    print(table(_ordered(rows)))


if __name__ == "__main__":
    main()
