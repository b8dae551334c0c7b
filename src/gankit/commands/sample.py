"""`gankit sample RUN -n N --out FILE.npy`: generated samples as a float32 numpy array."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from gankit import api
from gankit.errors import GankitError
from gankit.runs import atomic_write_bytes

NAME = "sample"
HELP = "draw N samples from a run's generator into a .npy file"


def add_arguments(p):
    p.add_argument("run", metavar="RUN")
    p.add_argument("-n", type=int, required=True, help="number of samples (>= 1)")
    p.add_argument("--out", required=True, metavar="FILE.npy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite an existing FILE")


def run(args) -> int:
    if args.n < 1:
        raise GankitError(f"-n: number of samples must be >= 1, got {args.n}")
    out = Path(args.out)
    if out.suffix != ".npy":
        raise GankitError(f"--out {out}: must end in .npy")
    if out.exists() and not args.force:
        raise GankitError(f"--out {out} already exists; use --force to overwrite it")
    samples = api.sample(args.run, args.n, seed=args.seed).numpy().astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, samples)
    atomic_write_bytes(out, buffer.getvalue())
    print(f"wrote {samples.shape[0]} samples of shape {samples.shape[1:]} to {out}")
    return 0
