"""`gankit features A --out FEATS.npy`: save a source's features (and logits) for caching and
custom analyses."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from gankit.commands.fid import add_feature_arguments, check_feature_arguments
from gankit.commands.outputs import refuse_overwrites
from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "features"
HELP = "extract features (and class logits) of an image source into .npy files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="image source (folder, .npy/.npz, run, 'digits')")
    add_feature_arguments(parser)
    parser.add_argument(
        "--out",
        required=True,
        metavar="FEATS.npy",
        help="where to write the (N, d) float32 features",
    )
    parser.add_argument(
        "--logits", metavar="LOGITS.npy", default=None, help="also write the (N, K) class logits"
    )
    parser.add_argument("--json", action="store_true", help="print a summary as JSON")


def run(args: argparse.Namespace) -> int:
    out, logits_out = Path(args.out), Path(args.logits) if args.logits else None
    for p, flag in ((out, "--out"), (logits_out, "--logits")):
        if p is not None and p.suffix != ".npy":
            raise GankitError(f"{flag} {p}: must end in .npy")
    refuse_overwrites([("A", Path(args.a))], [("--out", out), ("--logits", logits_out)])
    check_feature_arguments(args)
    with starting():
        import numpy as np  # deferred: numpy

        from gankit.eval.suite import as_images, resolve_extractor  # deferred: torch, scipy
        from gankit.metrics.features import extract_features  # deferred: torch
        from gankit.runs import atomic_write_bytes  # deferred: torch (gankit.runs)

    def save(path: Path, array) -> None:
        buffer = io.BytesIO()
        np.save(buffer, array)
        atomic_write_bytes(path, buffer.getvalue())

    images = as_images(args.a, args.a)
    extractor = resolve_extractor(
        args.features, images, args.inception_weights, args.resize, args.device, args.data_path
    )
    feats, logits = extract_features(images, extractor, args.batch_size)
    if logits_out is not None and logits is None:
        raise GankitError(f"--logits: the {extractor.name} feature network gives no class logits")
    save(out, feats)
    if logits_out is not None:
        save(logits_out, logits)
    summary = {
        "features": extractor.name,
        "n": int(feats.shape[0]),
        "feature_dim": int(feats.shape[1]),
        "out": str(out),
        "logits": str(logits_out) if logits_out else None,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"wrote {out} ({summary['n']} x {summary['feature_dim']} {extractor.name} features)"
            + (f" and {logits_out}" if logits_out else "")
        )
    return 0
