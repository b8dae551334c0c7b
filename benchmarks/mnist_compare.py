"""Issue 12's MNIST comparison: gankit's `mnist` preset against the PyTorch DCGAN tutorial's
networks and hyper-parameters (`benchmarks/mnist_baseline.py`) given the same wall-clock.

1. Trains the `mnist` preset (``--set data.path=DATA``, seed ``--seed``) and takes its training
   wall-clock T: the ``time`` of its last ``metrics.jsonl`` row, the fit from its first step to
   its last, evaluations during training included (which favours the baseline).
2. Runs the baseline for T seconds on the preset's number of threads (``train.threads``).
3. Compares both FIDs in gankit's own MNIST feature space (the classifier trained once on the
   60,000 training images, t10k held out: the same cached network for both, its key checked),
   each of 10,000 generated images against the 10,000 test images, beside the real floor (FID of
   10,000 training images against the same test images), and the class histograms.

The target (issue 12): gankit's FID at most half the baseline's, every class present.

    python benchmarks/mnist_compare.py [--data ../shared/data/mnist] [--seed 0] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gankit import api, runs
from gankit import config as config_mod

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "mnist"


def train_gankit(data: str, seed: int, out: Path) -> dict:
    cfg = config_mod.resolve(preset="mnist", overrides=[f"data.path={data}", f"train.seed={seed}"])
    started = time.perf_counter()
    cpu = time.process_time()
    api.train(cfg, out, progress=False)
    rows = [r for r in runs.read_metrics(out) if "time" in r]
    final = json.loads((out / runs.FINAL).read_text())
    return {
        "train_seconds": rows[-1]["time"],
        "total_seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "steps": cfg.train.steps,
        "threads": cfg.train.threads,
        "final": final,
        "diagnosis": json.loads((out / runs.DIAGNOSIS).read_text())["summary"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder of the MNIST IDX files")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the comparison here")
    args = ap.parse_args()
    if not Path(args.data, "train-images-idx3-ubyte.gz").is_file() and not any(
        Path(args.data).glob("train-images*")
    ):
        print(f"mnist_compare: no MNIST files in {args.data} (give --data FOLDER)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        ours = train_gankit(args.data, args.seed, Path(tmp) / "run")
        base_json = Path(tmp) / "baseline.json"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "mnist_baseline.py"),
                "--data",
                args.data,
                "--seconds",
                str(ours["train_seconds"]),
                "--threads",
                str(ours["threads"] or torch_threads()),
                "--seed",
                str(args.seed),
                "--json",
                str(base_json),
            ],
            check=True,
        )
        base = json.loads(base_json.read_text())
    f = ours["final"]
    summary = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "seed": args.seed,
        "load_average": os.getloadavg(),
        "gankit": {
            "train_seconds": ours["train_seconds"],
            "cpu_seconds": ours["cpu_seconds"],
            "steps": ours["steps"],
            "fid_mnist": f["fid_mnist"],
            "fid_floor_mnist": f["fid_floor_mnist"],
            "class_histogram": f["class_histogram"],
            "classes_covered": f["classes_covered"],
            "precision_mnist": f["precision_mnist"],
            "recall_mnist": f["recall_mnist"],
            "one_nn_accuracy_mnist": f["one_nn_accuracy_mnist"],
            "diagnosis": ours["diagnosis"],
        },
        "baseline": {
            k: base[k]
            for k in (
                "seconds",
                "steps",
                "fid_mnist",
                "fid_mnist_bn_eval",
                "fid_floor_mnist",
                "class_histogram",
                "all_classes_present",
            )
        },
        "classifier_key": base["classifier"]["key"],
    }
    ratio = f["fid_mnist"] / base["fid_mnist"]
    summary["fid_ratio_gankit_over_baseline"] = ratio
    print(
        f"\ngankit mnist preset: {ours['steps']} steps in {ours['train_seconds']:.0f} s: "
        f"FID {f['fid_mnist']:.3f} (floor {f['fid_floor_mnist']:.3f}), classes "
        f"{f['class_histogram']}\nDCGAN tutorial, same {base['seconds']:.0f} s: "
        f"{base['steps']} steps: FID {base['fid_mnist']:.3f} (eval-mode BN "
        f"{base['fid_mnist_bn_eval']:.3f}; floor {base['fid_floor_mnist']:.3f}), classes "
        f"{base['class_histogram']}\nratio gankit / baseline = {ratio:.4f} (target <= 0.5)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def torch_threads() -> int:
    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
