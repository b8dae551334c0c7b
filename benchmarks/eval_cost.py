"""What one FID evaluation costs: feature extraction, float64 statistics, Fréchet distance.

Two feature spaces: ``digits`` (8 x 8 images, the shipped digits net, ``get_extractor("digits")``)
and ``mnist`` (28 x 28 images, gankit's MNIST classifier, `classifier_extractor` trained on the
MNIST training split with t10k held out, ``name="mnist"``, cached under ~/.cache/gankit). One
evaluation of ``n`` generated images is timed as three separate parts, each repeated
(``--repeats``, median kept):

1. ``extract``: `gankit.metrics.features.extract_features` of ``n`` float32 images in [0, 1] (the
   form generated images reach the metrics in), at the extractor's own batch size;
2. ``stats``: `gankit.metrics.streaming.GaussianStats` of the features (float64 mean and
   scatter, one BLAS ``syrk``);
3. ``frechet``: `gankit.metrics.frechet.frechet_distance` against reference statistics.

Not counted: generating the images (it depends on G), the reference statistics of the real
data and the classifier (computed once, then cached: printed separately as one-off costs). The
images are real ones drawn with replacement (the digits' training split; MNIST's training
split), standing in for generated ones: the cost does not depend on what they show.

`evaluation_seconds(space, n)` (and `evaluation_cost` for the parts) can be imported, from the
repository root: ``from benchmarks.eval_cost import evaluation_seconds``.

On a shared machine with more busy processes than cores, threads that spin at barriers (torch's
OpenMP, OpenBLAS) can cost far more than the work: ``--threads 1``, ``--blas-threads 1`` or
``OMP_WAIT_POLICY=PASSIVE`` show how much.

The MNIST part needs the MNIST IDX files (``--data``, default /work/shared/data/mnist); where
they are absent it is skipped with a note (the digits ship with scikit-learn).

    python benchmarks/eval_cost.py [--n 10000] [--repeats 3] [--threads 2]
        [--blas-threads 0] [--spaces digits,mnist] [--data FOLDER] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from gankit.data.datasets import load_splits
from gankit.metrics.features import extract_features, get_extractor
from gankit.metrics.frechet import frechet_distance
from gankit.metrics.streaming import GaussianStats

DEFAULT_DATA = "/work/shared/data/mnist"
SPACES = ("digits", "mnist")
PARTS = ("extract", "stats", "frechet")
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class MissingData(RuntimeError):
    """The MNIST files are not where ``data`` says."""


def missing_mnist(folder: str | Path) -> str | None:
    """None when ``folder`` holds the four MNIST IDX files (or their .gz), else why not."""
    path = Path(folder)
    if not path.is_dir():
        return f"the MNIST folder {path} does not exist"
    missing = [
        n for n in MNIST_FILES if not (path / n).is_file() and not (path / f"{n}.gz").is_file()
    ]
    if missing:
        return f"the MNIST folder {path} lacks {', '.join(missing)}[.gz]"
    return None


_SPACES: dict = {}


def _space(space: str, data: str | Path = DEFAULT_DATA):
    """(extractor, pool of float32 images in [0, 1], reference GaussianStats, one-off costs),
    built once per process."""
    key = (space, str(data))
    if key in _SPACES:
        return _SPACES[key]
    once = {}
    if space == "digits":
        t = time.perf_counter()
        extractor = get_extractor("digits")
        once["extractor_seconds"] = time.perf_counter() - t
        train, heldout = load_splits("digits", None)
        pool = torch.from_numpy(train.as_float01())
        reference = heldout.images
    elif space == "mnist":
        why = missing_mnist(data)
        if why:
            raise MissingData(f"{why}; pass the folder of the MNIST IDX files with --data FOLDER")
        from gankit.metrics.features.classifier import classifier_extractor

        train, heldout = load_splits("mnist", str(data))
        t = time.perf_counter()
        extractor, info = classifier_extractor(
            train.images, train.labels, heldout.images, heldout.labels, name="mnist"
        )
        once["extractor_seconds"] = time.perf_counter() - t
        once["classifier_cached"] = info["cached"]
        once["classifier_train_seconds"] = info["seconds"]
        pool = torch.from_numpy(train.images)  # uint8; float32 [0, 1] per draw
        reference = heldout.images
    else:
        raise ValueError(f"unknown space {space!r}; known: {', '.join(SPACES)}")
    t = time.perf_counter()
    ref_feats, _ = extract_features(reference, extractor)
    ref_stats = GaussianStats.from_features(ref_feats)
    once["reference_seconds"] = time.perf_counter() - t
    once["reference_n"] = int(reference.shape[0])
    once["feature_dim"] = int(ref_feats.shape[1])
    once["image_shape"] = list(reference.shape[1:])
    once["batch_size"] = extractor.batch_size
    _SPACES[key] = (extractor, pool, ref_stats, once)
    return _SPACES[key]


def _images(pool: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    idx = torch.randint(pool.shape[0], (n,), generator=torch.Generator().manual_seed(seed))
    x = pool[idx]
    return x.to(torch.float32) / 255.0 if x.dtype == torch.uint8 else x.to(torch.float32)


def blas_limit(threads: int | None):
    """A context limiting numpy/scipy's BLAS (OpenBLAS here) to ``threads``; None or 0: as is."""
    if not threads:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    return threadpool_limits(limits=threads, user_api="blas")


def evaluation_cost(
    space: str,
    n: int = 10000,
    repeats: int = 3,
    data: str | Path = DEFAULT_DATA,
    seed: int = 0,
    blas_threads: int | None = None,
) -> dict:
    """Seconds of one FID evaluation of ``n`` images in ``space`` (``digits`` or ``mnist``):
    ``{"extract", "stats", "frechet", "total"}`` (medians of ``repeats`` runs of each part;
    ``total`` is their sum), with ``"runs"`` (every time) and ``"once"`` (one-off costs:
    extractor, reference statistics). ``blas_threads``: limit numpy/scipy's BLAS threads for
    the statistics and the Fréchet distance (None: the library's default, one per core).
    Raises `MissingData` for ``mnist`` without its files."""
    extractor, pool, ref, once = _space(space, data)
    images = _images(pool, n, seed)
    extract_features(images[: min(n, 2 * extractor.batch_size)], extractor)  # warm-up
    runs = {p: [] for p in PARTS}
    value = None
    for _ in range(repeats):
        t = time.perf_counter()
        feats, _ = extract_features(images, extractor)
        runs["extract"].append(time.perf_counter() - t)
        with blas_limit(blas_threads):
            t = time.perf_counter()
            stats = GaussianStats.from_features(feats)
            runs["stats"].append(time.perf_counter() - t)
            t = time.perf_counter()
            value = frechet_distance(stats.mean, stats.cov, ref.mean, ref.cov)
            runs["frechet"].append(time.perf_counter() - t)
    out = {p: statistics.median(runs[p]) for p in PARTS}
    out["total"] = sum(out[p] for p in PARTS)
    out["runs"] = runs
    out["once"] = dict(once)
    out["fid"] = value
    out["n"] = n
    out["blas_threads"] = blas_threads or "default"
    return out


def evaluation_seconds(
    space: str, n: int = 10000, data: str | Path = DEFAULT_DATA, blas_threads: int | None = None
) -> float:
    """Seconds of one FID evaluation of ``n`` images in ``space`` (``digits`` or ``mnist``):
    feature extraction + float64 statistics + Fréchet distance, the median of 3 runs of each,
    measured now, on this machine, with the current torch thread count (generating the images
    and the cached reference statistics not included)."""
    return evaluation_cost(space, n, repeats=3, data=data, blas_threads=blas_threads)["total"]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10000, help="images per evaluation")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (0 = torch default)")
    ap.add_argument("--spaces", default="digits,mnist")
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder of the MNIST IDX files")
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=0,
        help="limit numpy/scipy BLAS threads for the statistics and the Fréchet distance "
        "(0: the library's default)",
    )
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    spaces = [s for s in args.spaces.split(",") if s]
    for s in spaces:
        if s not in SPACES:
            ap.error(f"unknown space {s!r}; known: {', '.join(SPACES)}")
    results, notes = {}, []
    load_before = load_average()
    for space in spaces:
        try:
            results[space] = evaluation_cost(
                space, args.n, args.repeats, args.data, blas_threads=args.blas_threads
            )
            results[space]["load_average_after"] = load_average()
        except MissingData as exc:
            notes.append(f"{space}: skipped: {exc}")
    print(
        f"FID evaluation of {args.n} images, threads={torch.get_num_threads()}, "
        f"BLAS threads {args.blas_threads or 'default'}, "
        f"median of {args.repeats}; load average {load_before} (start); "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    )
    print(
        f"{'space':8s} {'image':>8s} {'dim':>4s} {'extract s':>10s} {'stats s':>9s} "
        f"{'frechet s':>10s} {'total s':>8s} {'img/s':>8s}  load after"
    )
    for space, r in results.items():
        shape = "x".join(map(str, r["once"]["image_shape"][1:]))
        print(
            f"{space:8s} {shape:>8s} {r['once']['feature_dim']:4d} {r['extract']:10.3f} "
            f"{r['stats']:9.4f} {r['frechet']:10.4f} {r['total']:8.3f} "
            f"{args.n / r['extract']:8.0f}  {r['load_average_after']}"
        )
    for space, r in results.items():
        o = r["once"]
        extra = (
            f", classifier {'loaded from cache' if o.get('classifier_cached') else 'trained'}"
            if "classifier_cached" in o
            else ""
        )
        print(
            f"  {space}: one-off: extractor {o['extractor_seconds']:.2f} s{extra}, reference "
            f"statistics of {o['reference_n']} images {o['reference_seconds']:.2f} s; "
            f"batch {o['batch_size']}; FID of the draw vs reference {r['fid']:.3f}"
        )
    for note in notes:
        print(f"note: {note}")
    if not results:
        print("error: nothing measured (see the notes above)", file=sys.stderr)
        return 2
    if args.json:
        out = {
            "benchmark": "eval_cost",
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "blas_threads": args.blas_threads or "default",
            "n": args.n,
            "repeats": args.repeats,
            "load_average_start": load_before,
            "load_average_end": load_average(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
            "results": results,
            "notes": notes,
        }
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
