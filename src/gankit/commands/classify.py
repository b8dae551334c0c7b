"""`gankit classify RUN IMAGES.npy --out LABELS.npy`: a trained run's class predictions.

Reads ``(N, C, H, W)`` images (float32 in [0, 1] or uint8, as `gankit sample` writes them; the
checks of `gankit.data.checks`), asks the run (``run.classify(images) -> (labels, lines)``) and
writes the ``(N,)`` int64 labels whole or not at all; the run's lines go to stderr. Runs that
classify: a semi-supervised GAN (D's K classes) and an InfoGAN (Q's categorical code, in the
code's own numbering, its matching to the classes among the lines); any other run is refused in
one line naming its family.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from gankit.commands.outputs import npy_output, refuse_overwrites
from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "classify"
HELP = "a semi-supervised GAN's or InfoGAN's class predictions for images in a .npy file"


def add_arguments(p):
    p.description = (
        "Classify the images of IMAGES.npy ((N, C, H, W) float32 in [0, 1] or uint8, the layout "
        "`gankit sample` writes) with RUN, a semi-supervised GAN run (D's class prediction) or "
        "an InfoGAN run (Q's categorical code, the matching of codes to classes printed beside "
        "it), and write the (N,) int64 labels to LABELS.npy."
    )
    p.add_argument("run", metavar="RUN", help="a run directory of a semi-supervised GAN or InfoGAN")
    p.add_argument("images", metavar="IMAGES.npy", help="the images, (N, C, H, W)")
    p.add_argument("--out", metavar="LABELS.npy", required=True, help="where the labels go")
    p.add_argument("--force", action="store_true", help="overwrite LABELS.npy")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")


def _checked_paths(args) -> tuple[Path, Path]:
    """(images, out), refused in one line before anything is read."""
    images = Path(args.images)
    if images.suffix != ".npy":
        raise GankitError(f"{images}: IMAGES must be a .npy file of (N, C, H, W) images")
    if not images.is_file():
        raise GankitError(f"{images}: no such file")
    out = npy_output("--out", args.out, args.force)
    refuse_overwrites([("IMAGES", images)], [("--out", out)])
    return images, out


def run(args) -> int:
    with starting():
        import numpy as np  # deferred: numpy (~0.1 s), for classify --help

        from gankit import api  # deferred: torch (~2 s)
        from gankit.data.images import load_images  # deferred: torch (the checks)
        from gankit.runs import atomic_write_bytes  # deferred: torch (gankit.runs)

    images_path, out = _checked_paths(args)
    loaded = api.load_run(args.run)
    if not hasattr(loaded, "classify"):
        family = loaded.config.model.family
        raise GankitError(
            f"{args.run} is a {family} run: gankit classify reads semi-supervised GAN and "
            "InfoGAN runs"
        )
    images = load_images(images_path)
    if images.shape[0] < 1:
        raise GankitError(f"{images_path}: holds no images")
    labels, lines = loaded.classify(images)  # each run's classify takes uint8 or [0, 1] floats
    labels = np.asarray(labels, dtype=np.int64)
    buffer = io.BytesIO()
    np.save(buffer, labels)
    atomic_write_bytes(out, buffer.getvalue())
    if not args.quiet:
        for line in lines:
            print(line, file=sys.stderr)
        print(f"wrote {labels.shape[0]} labels, int64 (N,), to {out}", file=sys.stderr)
    return 0
