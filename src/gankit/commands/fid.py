"""`gankit fid A B`: the Fréchet distance between two image sources in a feature space."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gankit.commands import flags
from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "fid"
HELP = "FID between two image sources (folders, .npy/.npz arrays, run directories, 'digits')"

#: the datasets whose classifier feature space `--features` names (`gankit.eval.feature_space`
#: `CLASSIFIER_DATASETS`)
CLASSIFIER_DATASETS = ("mnist", "fashion-mnist", "cifar10", "image-folder")

#: the parser's choices and defaults, kept here so that the parser imports no torch; they are
#: `gankit.eval.suite`'s (`FEATURE_CHOICES`, `DEFAULTS`), which a test checks
#: (`tests/test_cli_startup.py`)
FEATURE_CHOICES = ("auto", "inception", "digits", *CLASSIFIER_DATASETS)
RESIZE_CHOICES = ("tf1", "pytorch-fid")
DEFAULTS = {"features": "auto", "resize": "tf1", "batch_size": None}


def add_feature_arguments(parser: argparse.ArgumentParser, default=DEFAULTS["features"]) -> None:
    """The feature-space options shared by `gankit fid` and `gankit features`."""
    parser.add_argument(
        "--features",
        metavar="SPACE",
        type=flags.feature_space("--features", FEATURE_CHOICES),
        default=default,
        help="feature space: digits (the shipped 8x8 digits net), inception (the FID "
        "Inception-v3, needs --inception-weights), auto (digits for 1x8x8 images, else "
        "inception), a dataset's classifier space (mnist, fashion-mnist, cifar10, image-folder "
        "with --data-path: the small CNN its preset's runs measure in, fid_mnist...; trained "
        "once on the labelled training split, minutes for MNIST on a CPU, then read from the "
        "cache), or a run directory (the space its metrics are in); default %(default)s",
    )
    parser.add_argument(
        "--data-path",
        metavar="DIR",
        default=None,
        help="with a dataset's --features: where its data is (the data.path its runs train "
        "on: the IDX files, the CIFAR-10 batches, the folder of class sub-folders); with a run "
        "directory: where its data is now, if it moved",
    )
    parser.add_argument(
        "--inception-weights",
        metavar="FILE",
        default=None,
        help="local FID Inception weights (pytorch-fid's pt_inception-2015-12-05-"
        "6726825d.pth or torch-fidelity's weights-inception-2015-12-05-"
        "6726825d.pth); never downloaded",
    )
    parser.add_argument(
        "--resize",
        choices=RESIZE_CHOICES,
        default=DEFAULTS["resize"],
        help="Inception preprocessing: TF1-compatible bilinear on uint8 "
        "(original FID, torch-fidelity) or pytorch-fid's "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=flags.BATCH,
        default=DEFAULTS["batch_size"],
        help="images per forward pass (default: 50 for Inception, 1000 for the digits net)",
    )
    parser.add_argument(
        "--device",
        type=flags.device("--device"),
        default="cpu",
        help="torch device (default %(default)s)",
    )


def check_feature_arguments(args: argparse.Namespace) -> None:
    """The refusals of ``--features`` / ``--data-path`` that need nothing loaded, before any
    source is read or sampled (`gankit.eval.suite.resolve_extractor` makes them too)."""
    if args.data_path is not None and not args.data_path.strip():
        raise GankitError("--data-path: an empty path (an unset variable?); give a directory")
    if args.features in CLASSIFIER_DATASETS and not args.data_path:
        raise GankitError(
            f"--features {args.features} needs --data-path DIR: where the {args.features} data "
            "is (the data.path its runs train on); none is assumed"
        )
    if args.data_path and args.features in ("auto", "inception", "digits"):
        raise GankitError(
            f"--data-path: only with --features {'/'.join(CLASSIFIER_DATASETS)} or a run "
            f"directory (where a classifier space's data is), not with {args.features!r}"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="first image source")
    parser.add_argument("b", metavar="B", help="second image source")
    add_feature_arguments(parser)
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="reference-statistics cache (default $GANKIT_CACHE or ~/.cache/gankit)",
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument(
        "--kid",
        action="store_true",
        help="also KID (Bińkowski et al. 2018; unbiased at any sample count) on at most 5,000 "
        "images of each side, its features scaled as a run's KID is; with too few images for "
        "FID, KID alone",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    check_feature_arguments(args)
    with starting():
        from gankit import api, runs  # deferred: torch (~2 s): a run directory as a source
        from gankit.eval.suite import fid_between  # deferred: torch, scipy (~2 s)

    def source(path: str):
        """A run directory samples its model (``log.final_samples`` images, seed 0, as its
        final evaluation's first draw); anything else is read as it is."""
        if runs.is_run_dir(path) and not (Path(path) / "samples.npy").is_file():
            loaded = api.load_run(path)
            if loaded.data.kind != "images":
                raise GankitError(f"{path}: a run of toy data; FID compares images")
            return loaded.export(loaded.config.log.final_samples, seed=0)
        return path

    result = fid_between(
        source(args.a),
        source(args.b),
        features=args.features,
        inception_weights=args.inception_weights,
        resize=args.resize,
        batch_size=args.batch_size,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        device=args.device,
        data_path=args.data_path,
        with_kid=args.kid,
    )
    if args.json:
        print(json.dumps(result))
    else:
        space = (
            f"({result['features']} features, {result['feature_dim']}-d; "
            f"{result['n_a']} vs {result['n_b']} samples)"
        )
        if result["fid"] is not None:
            print(f"FID {result['fid']:.6g}  {space}")
        if args.kid:
            print(
                f"KID {result['kid']:.6g} +- {result['kid_std']:.2g}  (subsets of "
                f"{result['kid_subset_size']}; features / {result['kid_scale']:.4g})"
                + ("" if result["fid"] is not None else f"  {space}")
            )
        if "fid_refused" in result:
            print(f"note: no FID: {result['fid_refused']}", file=sys.stderr)
        if result["fid"] is not None:
            print(
                "note: FID depends on the feature space, the sample counts and the reference "
                "set; a run's own fid_<space> compares log.final_samples samples with its "
                "held-out split in its own space, so the two read differently for the same model",
                file=sys.stderr,
            )
    return 0
