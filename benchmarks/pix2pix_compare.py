"""Issue 24's pix2pix target: L1 + cGAN against the L1-only U-Net (the paper's ablation, the same
nets, steps and seed, ``pix2pix.adversarial = false``), on a pix2pix preset.

For each seed of ``--seeds``, trains ``--preset`` (default ``pix2pix-digits``) twice through
`gankit.api`: ``OUT/adv-sN`` (L1 + cGAN) and ``OUT/l1-sN`` (L1 only), ``train.seed = N``, then
every ``--set KEY=VALUE``; a run whose ``final_metrics.json`` exists is read, not retrained
(``--out`` of an earlier sweep prints its table again). Prints a markdown table of their final
metrics: FID against the real held-out images (``fid_mean_S`` over ``log.final_draws`` draws
where the preset takes several, else ``fid_S``) beside the real floor, ``l1_error`` and
``translation_agreement`` on the held-out pairs (recomputed from the run's checkpoint by
``Pix2pixRun.family_metrics``: every held-out input, 10 dropout draws of each where the split
is small, as the final metrics of runs trained since that definition), the paired difference
of the two agreements input by input with its standard error, and the training seconds (the
``time`` of the last ``metrics.jsonl`` row: the fit, evaluations included); then the target
per seed: a lower FID for L1 + cGAN and an agreement no lower than L1-only's. ``--json FILE``
gets every number.

    python benchmarks/pix2pix_compare.py [--preset pix2pix-digits] [--seeds 0 1 2 3 4]
        [--set KEY=VALUE ...] [--out RUNS_DIR] [--json FILE]

MNIST: ``--preset pix2pix-mnist --set data.path=../shared/data/mnist``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from gankit import api, runs
from gankit import config as config_mod

VARIANTS = {"adv": [], "l1": ["pix2pix.adversarial=false"]}


def train_once(preset: str, seed: int, sets: list[str], out: Path) -> Path:
    if (out / runs.FINAL).is_file():
        return out
    cfg = config_mod.resolve(preset, overrides=sets, shorthands={"train.seed": seed})
    return api.train(cfg, out, force=True, progress=False)


def summary(run: Path, loaded) -> dict:
    """The table's numbers of ``run``; ``loaded`` is it loaded (`api.load_run`)."""
    final = json.loads((run / runs.FINAL).read_text())
    rows = [r for r in runs.read_metrics(run) if "time" in r and "event" not in r]
    fid_key = next((k for k in final if k.startswith("fid_mean_")), None)
    fid_key = fid_key or next(k for k in final if k.startswith("fid_") and "_" not in k[4:])
    space = fid_key.split("_")[-1]
    family = loaded.family_metrics()  # as the final metrics define them today
    return {
        "fid": final[fid_key],
        "fid_key": fid_key,
        "floor": final.get(f"fid_floor_{space}"),
        "l1_error": family["l1_error"],
        "agreement": family.get("translation_agreement"),
        "seconds": rows[-1]["time"] if rows else None,
    }


def paired_agreement(adv, l1) -> tuple[float, float] | None:
    """(mean, standard error) in points of L1 + cGAN's agreement minus L1-only's, input by
    input over the held-out split (`Pix2pixRun.agreement_by_input` of the two loaded runs: the
    translations their family metrics read): the same inputs, so the inputs' own difficulty
    cancels; None without a classifying feature space."""
    a, b = adv.agreement_by_input(), l1.agreement_by_input()
    if a is None or b is None:
        return None
    diff = 100.0 * (a - b)
    return float(diff.mean()), float(diff.std(ddof=1) / len(diff) ** 0.5)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="pix2pix-digits")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", type=Path, default=Path("runs/pix2pix-compare"))
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results = []
    for seed in args.seeds:
        row = {"seed": seed}
        trained = {}
        for name, extra in VARIANTS.items():
            run = train_once(args.preset, seed, [*args.sets, *extra], args.out / f"{name}-s{seed}")
            trained[name] = api.load_run(run)
            row[name] = summary(run, trained[name])
        paired = paired_agreement(trained["adv"], trained["l1"])
        row["agreement_diff_points"], row["agreement_diff_se_points"] = paired or (None, None)
        results.append(row)
        if args.json:
            args.json.write_text(json.dumps({"preset": args.preset, "seeds": results}, indent=1))
    key = results[0]["adv"]["fid_key"]
    print(
        f"| seed | {key} L1+cGAN | L1 only | floor | l1_error L1+cGAN | L1 only | "
        "agreement L1+cGAN | L1 only | paired diff (se), points | s L1+cGAN | L1 only | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        a, b = r["adv"], r["l1"]
        met = a["fid"] < b["fid"] and (a["agreement"] or 0) >= (b["agreement"] or 0)
        print(
            f"| {r['seed']} | {a['fid']:.2f} | {b['fid']:.2f} | {a['floor']:.2f} | "
            f"{a['l1_error']:.4f} | {b['l1_error']:.4f} | {a['agreement']:.3f} | "
            f"{b['agreement']:.3f} | {_paired(r)} | {a['seconds']:.0f} | {b['seconds']:.0f} | "
            f"{'met' if met else 'missed'} |"
        )
    if len(results) > 1:
        for name in VARIANTS:
            fids = [r[name]["fid"] for r in results]
            agree = [r[name]["agreement"] for r in results]
            print(
                f"{name}: FID mean {statistics.mean(fids):.2f} (sd {statistics.stdev(fids):.2f}),"
                f" agreement mean {statistics.mean(agree):.3f} (sd {statistics.stdev(agree):.3f})",
                file=sys.stdout,
            )
    return 0


def _paired(row: dict) -> str:
    d, se = row.get("agreement_diff_points"), row.get("agreement_diff_se_points")
    return "-" if d is None else f"{d:+.2f} ({se:.2f})"


if __name__ == "__main__":
    raise SystemExit(main())
