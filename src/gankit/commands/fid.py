"""`gankit fid A B`: the Fréchet distance between two image sources in a feature space."""

from __future__ import annotations

import argparse
import json

from gankit.eval.suite import DEFAULTS, FEATURE_CHOICES, fid_between

NAME = "fid"
HELP = "FID between two image sources (folders, .npy/.npz arrays, run directories, 'digits')"


def add_feature_arguments(parser: argparse.ArgumentParser, default=DEFAULTS["features"]) -> None:
    """The feature-space options shared by `gankit fid` and `gankit features`."""
    parser.add_argument(
        "--features",
        choices=FEATURE_CHOICES,
        default=default,
        help="feature space: digits net (shipped), the FID Inception-v3, or "
        "auto (digits for 1x8x8 images, else inception; default %(default)s)",
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
        choices=("tf1", "pytorch-fid"),
        default=DEFAULTS["resize"],
        help="Inception preprocessing: TF1-compatible bilinear on uint8 "
        "(original FID, torch-fidelity) or pytorch-fid's "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULTS["batch_size"],
        help="images per forward pass (default: 50 for Inception, 1000 for the digits net)",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default %(default)s)")


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
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    result = fid_between(
        args.a,
        args.b,
        features=args.features,
        inception_weights=args.inception_weights,
        resize=args.resize,
        batch_size=args.batch_size,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        device=args.device,
    )
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"FID {result['fid']:.6g}  ({result['features']} features, "
            f"{result['feature_dim']}-d; {result['n_a']} vs {result['n_b']} samples)"
        )
    return 0
