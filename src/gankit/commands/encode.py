"""`gankit encode RUN IMAGES.npy --out CODES.npy`: a BiGAN / ALI run's codes E(x) of images.

Reads ``(N, C, H, W)`` images (float32 in [0, 1] or uint8, the layout `gankit sample` writes,
the run's image shape; read and checked as `gankit classify` reads them), asks the run's
encoder and writes the ``(N, z_dim)`` float32 codes (E's mean for ALI's stochastic encoder)
whole or not at all. A run of another family is refused in one line naming it.
`gankit reconstruct` (`gankit.commands.reconstruct`) shares `convert`.
"""

from __future__ import annotations

import io
import sys

from gankit.commands.classify import _checked_paths
from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "encode"
HELP = "a BiGAN / ALI run's codes E(x) of images in a .npy file"


def add_io_arguments(p, out_metavar: str, out_help: str) -> None:
    """RUN, IMAGES.npy, --out, --force, --quiet: what encode and reconstruct both take."""
    p.add_argument("run", metavar="RUN", help="a run directory of model.family = 'bigan'")
    p.add_argument("images", metavar="IMAGES.npy", help="the images, (N, C, H, W)")
    p.add_argument("--out", metavar=out_metavar, required=True, help=out_help)
    p.add_argument("--force", action="store_true", help=f"overwrite {out_metavar}")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")


def add_arguments(p):
    p.description = (
        "Encode the images of IMAGES.npy ((N, C, H, W) float32 in [0, 1] or uint8, the layout "
        "`gankit sample` writes) with the encoder E of RUN, a BiGAN / ALI run (its newest "
        "intact checkpoint), and write the (N, z_dim) float32 codes to CODES.npy (the mean of "
        "ALI's stochastic encoder)."
    )
    add_io_arguments(p, "CODES.npy", "where the codes go")


def convert(args, what: str, describe) -> int:
    """Read ``args.images``, ask the BiGAN run ``args.run`` for ``what`` (``"encode"`` or
    ``"reconstruct"``) and write the float32 array to ``args.out`` atomically; ``describe(a)``:
    the line printed after it (unless ``--quiet``)."""
    with starting():
        import numpy as np  # deferred: numpy (~0.1 s), for --help

        from gankit import api  # deferred: torch (~2 s)
        from gankit.data.images import load_images  # deferred: torch (the checks)
        from gankit.runs import atomic_write_bytes  # deferred: torch (gankit.runs)

    images_path, out = _checked_paths(args)
    loaded = api.load_run(args.run)
    family = loaded.config.model.family
    if family != "bigan":
        raise GankitError(f"{args.run} is a {family} run: gankit {what} reads BiGAN runs")
    images = load_images(images_path)
    if images.shape[0] < 1:
        raise GankitError(f"{images_path}: holds no images")
    result = getattr(loaded, what)(images, name=str(images_path))
    array = np.ascontiguousarray(result.numpy(), dtype=np.float32)
    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(out, buffer.getvalue())
    if not args.quiet:
        print(f"{describe(array)} to {out}", file=sys.stderr)
    return 0


def run(args) -> int:
    return convert(args, "encode", lambda a: f"wrote {a.shape[0]} codes, float32 {a.shape}")
