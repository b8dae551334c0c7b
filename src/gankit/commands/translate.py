"""`gankit translate RUN INPUTS.npy --out OUTPUTS.npy [--seed S]`: a pix2pix run's translations.

``INPUTS.npy``: ``(N, C, H, W)`` float32 in [0, 1] (or uint8) in the run's task's input layout
(``lower-half``: digits with their lower half blank; ``edges``: edge maps), the run's image
size; ``OUTPUTS.npy``: the translations, the same shape, float32 in [0, 1], written whole or not
at all. G's dropout stays on, as in the paper: another ``--seed`` gives another translation.
A run of another family is refused in one line, and so are inputs of another shape.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from gankit.commands import flags
from gankit.commands.outputs import npy_output
from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "translate"
HELP = "translate images with a pix2pix run (INPUTS.npy in the task's input layout)"

#: the largest input file read (a .npy of images; 2 GiB is ~2.6 million MNIST images)
MAX_INPUT_BYTES = 2 * 2**30


def add_arguments(p):
    p.description = (
        "Translate INPUTS.npy, (N, C, H, W) float32 images in [0, 1] in the input layout of "
        "RUN's pix2pix.task (lower-half: the images with their lower half blank; edges: edge "
        "maps), with the U-Net of RUN (its newest intact checkpoint). Writes OUTPUTS.npy, the "
        "same shape, float32 in [0, 1]. Dropout is G's noise, on at test time: --seed picks it."
    )
    p.add_argument("run", metavar="RUN", help="a pix2pix run directory (gankit train --out)")
    p.add_argument("inputs", metavar="INPUTS.npy", help="(N, C, H, W) float32 in [0, 1]")
    p.add_argument("--out", metavar="OUTPUTS.npy", required=True, help="the translations")
    p.add_argument(
        "--seed",
        type=flags.SEED,
        default=0,
        help="seed of G's dropout masks (>= 0, default %(default)s): the same seed, the same "
        "translations",
    )
    p.add_argument("--force", action="store_true", help="overwrite OUTPUTS.npy")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object: {run, inputs, out, shape}"
    )


def _target(args) -> Path:
    return npy_output("--out", args.out, args.force)


def _read_inputs(path: Path, np):
    """The images of ``INPUTS.npy`` (never unpickled); `GankitError` naming the file."""
    if not path.is_file():
        raise GankitError(f"{path}: no such file")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise GankitError(f"{path}: {path.stat().st_size} bytes is too large an input file")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        reason = " ".join(str(exc).split())
        raise GankitError(f"{path}: not a readable .npy array ({reason})") from None
    if not isinstance(array, np.ndarray) or array.ndim != 4:
        shape = getattr(array, "shape", None)
        raise GankitError(f"{path}: expected (N, C, H, W) images, got shape {shape}")
    return array


def run(args) -> int:
    with starting():
        import numpy as np  # deferred: numpy (~0.1 s), for translate --help

        from gankit import api  # deferred: torch (~2 s)
        from gankit.runs import atomic_write_bytes  # deferred: torch (gankit.runs)

    out = _target(args)
    inputs = Path(args.inputs)
    loaded = api.load_run(args.run)
    family = loaded.config.model.family
    if family != "pix2pix":
        raise GankitError(f"{args.run} is a {family} run: gankit translate reads pix2pix runs")
    images = _read_inputs(inputs, np)
    outputs = loaded.translate(images, seed=args.seed, name=str(inputs))
    outputs = outputs.numpy().astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, outputs)
    atomic_write_bytes(out, buffer.getvalue())
    if args.json:
        shape = [int(d) for d in outputs.shape]
        print(
            json.dumps(
                {"run": str(args.run), "inputs": str(inputs), "out": str(out), "shape": shape}
            )
        )
    elif not args.quiet:
        print(f"wrote {outputs.shape[0]} translations of shape {outputs.shape[1:]} to {out}")
    return 0
