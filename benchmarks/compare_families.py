"""Issue 25's comparison: every model family on the same data, with the same metrics, in one
table: the GANs beside the models that came before them.

Trains each preset of ``--data``'s list (`FAMILY_PRESETS`) for every seed of ``--seeds`` at its
default budget, each ``gankit train --preset P --seed S --set train.threads=1`` into
``--out/P-seed-S`` (a run already finished there is kept, so an interrupted comparison goes on
where it stopped), ``--jobs`` trainings at a time. Then ``gankit compare --speed`` on all of
them: final metrics grouped by preset over the seeds (mean +- std), training seconds (each run's
fit, less its evaluations and snapshots) and samples per second, measured one model after another
in that one process (batch 1,000, one thread), so the rates compare on the same machine state.
Prints the markdown tables `docs/results.md` holds (`COLUMNS`); ``--json`` writes the comparison.

    python benchmarks/compare_families.py --data digits [--seeds 0 1 2 3 4] [--jobs 2]
        [--out DIR] [--mnist ../shared/data/mnist] [--json FILE]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

from gankit.report.groups import comparison_markdown

DEFAULT_MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"

#: the presets compared on each data set, cheapest first (the GANs last: the longest budgets);
#: unconditional models only (the class-conditional GANs read labels none of the others has)
FAMILY_PRESETS = {
    "digits": (
        "pca-digits",
        "gmm-digits",
        "autoencoder-digits",
        "vae-digits",
        "rbm-digits",
        "pixelcnn-digits",
        "bigan-digits",
        "digits-unconditional",
    ),
    "mnist": (
        "pca-mnist",
        "gmm-mnist",
        "autoencoder-mnist",
        "vae-mnist",
        "rbm-mnist",
        "pixelcnn-mnist",
        "bigan-mnist",
        "mnist",
    ),
    "ring-8": (
        "pca-ring-8",
        "gmm-ring-8",
        "vae-ring-8",
        "rbm-ring-8",
        "bigan-ring-8",
        "ring-8",
        "ring-8-best",
    ),
    "grid-25": (
        "pca-grid-25",
        "gmm-grid-25",
        "vae-grid-25",
        "rbm-grid-25",
        "bigan-grid-25",
        "grid-25",
        "grid-25-best",
    ),
}

#: the markdown tables per data set, each a `gankit compare --metrics` list: samples and cost;
#: likelihoods (densities of [-1, 1] pixels or points: log_likelihood for PCA and the mixture,
#: iwae_k500 for the VAE; of binarised pixels: the RBM's AIS estimate, PixelCNN's exact NLL)
IMAGE_LIKELIHOODS = "log_likelihood,iwae_k1,iwae_k500,log_likelihood_ais,nll_nats,bits_per_dim"
TOY_COLUMNS = (
    "modes_covered,high_quality,kl_data_model,kl_model_data,w1,train_seconds,samples_per_second",
    "log_likelihood,data_log_likelihood,iwae_k1,iwae_k500",
)
COLUMNS = {
    "digits": (
        "fid_digits,fid_mean_digits,kid_digits,precision_digits,recall_digits,density_digits,"
        "coverage_digits,one_nn_accuracy_digits,nn_ratio_digits,train_seconds,samples_per_second",
        IMAGE_LIKELIHOODS,
    ),
    "mnist": (
        "fid_mnist,kid_mnist,precision_mnist,recall_mnist,density_mnist,coverage_mnist,"
        "one_nn_accuracy_mnist,nn_ratio_mnist,train_seconds,samples_per_second",
        IMAGE_LIKELIHOODS,
    ),
    "ring-8": TOY_COLUMNS,
    "grid-25": TOY_COLUMNS,
}


def train(preset: str, seed: int, out: Path, mnist: Path) -> Path:
    """``preset`` at ``seed`` into ``out`` (kept when it already finished there)."""
    if (out / "final_metrics.json").exists():
        return out
    cmd = [sys.executable, "-m", "gankit", "train", "--preset", preset, "--seed", str(seed)]
    cmd += ["--out", str(out), "--force", "--quiet", "--set", "train.threads=1"]
    if "mnist" in preset:
        cmd += ["--set", f"data.path={mnist}"]
    log = out.with_suffix(".log")
    # appended, never truncated: a second copy of this script refused by the run's lock adds
    # its refusal below the first copy's log instead of overwriting it
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"# pid {os.getpid()}: {' '.join(cmd)}\n")
        fh.flush()
        done = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{preset} seed {seed} failed (exit {done.returncode}); see {log}")
    print(f"trained {out}", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(FAMILY_PRESETS), default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--presets", nargs="+", help="a subset of the data set's presets")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time")
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="the MNIST IDX files")
    parser.add_argument("--json", type=Path, help="also write `gankit compare --json` here")
    args = parser.parse_args(argv)
    if args.data == "mnist" and not args.mnist.is_dir():
        print(f"no MNIST files at {args.mnist}: give --mnist FOLDER", file=sys.stderr)
        return 2
    presets = args.presets or FAMILY_PRESETS[args.data]
    unknown = sorted(set(presets) - set(FAMILY_PRESETS[args.data]))
    if unknown:
        print(f"--presets: not compared on {args.data}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    out = args.out / args.data
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(p, s, out / f"{p}-seed-{s}") for p in presets for s in args.seeds]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(lambda job: train(*job, args.mnist), jobs))
    compare = [sys.executable, "-m", "gankit", "compare", *map(str, runs), "--speed"]
    compare += ["--threads", "1", "--json"]
    done = subprocess.run(compare, check=True, stdout=subprocess.PIPE, text=True)
    result = json.loads(done.stdout)
    for columns in COLUMNS[args.data]:
        print(comparison_markdown(result, columns.split(",")) + "\n")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
