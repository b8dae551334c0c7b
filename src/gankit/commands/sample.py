"""`gankit sample RUN -n N --out FILE.npy | DIR/ [--png] [--grid FILE.png] [--class K]
[--code K]`: generated samples.

Toy runs: ``(N, dim)`` float32 in data units. Image runs: ``(N, C, H, W)`` float32 in [0, 1]
in a ``.npy``; ``--out DIR/`` (or ``--png``) writes ``DIR/sample-00000.png``...; ``--grid
FILE.png`` writes the N images as one grid. A class-conditional run draws its classes in the
training split's shares (each class spread evenly over the sequence), or all of class K with
``--class K``; an InfoGAN run, every sample with value K of its categorical code with
``--code K``. Nothing is overwritten without ``--force``; every file is written whole or not
at all.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from gankit.commands import flags
from gankit.commands.startup import starting
from gankit.errors import GankitError

NAME = "sample"
HELP = "draw N samples from a run's generator into a .npy file, PNG files or a grid"


def add_arguments(p):
    p.description = (
        "Draw N samples from the generator of RUN, a run directory written by `gankit train` "
        "(its newest intact checkpoint; G's moving average where the run keeps one). Toy runs "
        "give (N, dim) float32 points in data units; image runs (N, C, H, W) float32 in [0, 1], "
        "as a .npy, a folder of PNG files or one grid. The same RUN, N and --seed give the same "
        "samples."
    )
    p.add_argument(
        "run",
        metavar="RUN",
        help="a run directory (what `gankit train --out` wrote, e.g. runs/gaussian-1d-...)",
    )
    p.add_argument("-n", type=flags.SAMPLES, required=True, help="number of samples (>= 1)")
    p.add_argument(
        "--out",
        metavar="FILE.npy|DIR/",
        help="a .npy file, or (images) a folder for PNG files (a trailing / or --png)",
    )
    p.add_argument("--png", action="store_true", help="images: --out is a folder of PNG files")
    p.add_argument("--grid", metavar="FILE.png", help="images: the N samples as one grid PNG")
    p.add_argument(
        "--seed",
        type=flags.SEED,
        default=0,
        help="seed of the generator's noise (>= 0, default %(default)s): the same seed gives "
        "the same samples; another seed, another draw. Independent of the run's train.seed",
    )
    p.add_argument(
        "--class",
        dest="label",
        type=flags.CLASS,
        metavar="K",
        help="a class-conditional run: every sample of class K (default: the training split's "
        "class shares)",
    )
    p.add_argument(
        "--code",
        type=flags.CODE,
        metavar="K",
        help="an InfoGAN run: every sample with value K of its categorical code (in the code's "
        "own numbering; final_metrics.json's code_class_matching says which class it took)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: {run, n, shape, npy, png_dir, grid, classes} (classes: "
        "the class each sample was asked for, for a class-conditional run; else null)",
    )


def _targets(args) -> tuple[Path | None, Path | None, Path | None]:
    """(npy file, png folder, grid file), checked before anything is drawn (-n and --seed
    were checked by the parser: `gankit.commands.flags`)."""
    if args.out is None and args.grid is None:
        raise GankitError("sample: give --out FILE.npy, --out DIR/ or --grid FILE.png")
    for flag, value in (("--out", args.out), ("--grid", args.grid)):
        if value is not None and not value.strip():
            raise GankitError(f"{flag}: an empty path (an unset variable?); give a file")
    npy = folder = grid = None
    if args.out is not None:
        out = Path(args.out)
        if args.png or args.out.endswith(("/", "\\")):
            folder = out
            if folder.exists() and not folder.is_dir():
                raise GankitError(f"--out {folder} is a file, not a folder")
            if folder.is_dir() and any(folder.glob("sample-*.png")) and not args.force:
                raise GankitError(f"--out {folder} already holds samples; use --force")
        else:
            if out.suffix != ".npy":
                raise GankitError(f"--out {out}: must end in .npy (or / for a folder of PNGs)")
            if out.exists() and not args.force:
                raise GankitError(f"--out {out} already exists; use --force to overwrite it")
            npy = out
    if args.grid is not None:
        grid = Path(args.grid)
        if grid.suffix.lower() != ".png":
            raise GankitError(f"--grid {grid}: must end in .png")
        if grid.exists() and not args.force:
            raise GankitError(f"--grid {grid} already exists; use --force to overwrite it")
    return npy, folder, grid


def run(args) -> int:
    with starting():
        import numpy as np  # deferred: numpy (~0.1 s), for sample --help

        from gankit import api  # deferred: torch (~2 s); sample --help stays light
        from gankit.data.grid import (  # deferred: torch
            labelled_rows,
            make_grid,
            png_bytes,
            to_uint8,
        )
        from gankit.nets.latent import generated_classes  # deferred: torch
        from gankit.runs import atomic_write_bytes  # deferred: torch (gankit.runs)

    npy, folder, grid = _targets(args)
    if args.code is not None and args.label is not None:
        raise GankitError("sample: --code (InfoGAN's code) and --class exclude each other")
    loaded = api.load_run(args.run)
    if args.code is not None:
        export_code = getattr(loaded, "export_code", None)
        if export_code is None:
            raise GankitError(
                f"--code {args.code}: {args.run} is not an InfoGAN run (model.family = "
                f"{loaded.config.model.family!r}); only InfoGAN has a categorical code"
            )
        samples = export_code(args.n, args.code, seed=args.seed)
    else:
        samples = loaded.export(args.n, seed=args.seed, label=args.label)
    samples = samples.numpy().astype(np.float32)
    if args.label is not None:
        classes = [int(args.label)] * args.n
    elif loaded.config.data.clusters:
        classes = None  # a self-conditioned G's k-means clusters are no classes: no labels file
    else:
        drawn = generated_classes(loaded.generator, args.n)
        classes = None if drawn is None else [int(c) for c in drawn.tolist()]
    say = print if not (args.quiet or args.json) else _silent
    images = samples.ndim == 4
    if (folder or grid) and not images:
        raise GankitError(f"{args.run}: a toy run's samples are points, not images (use .npy)")
    labels = None if classes is None else np.asarray(classes, dtype=np.int64)
    label_files = []
    if labels is not None:  # a conditional run: the class each sample was asked for, beside it
        if npy is not None:
            label_files.append(npy.with_name(npy.stem + ".labels.npy"))
        if folder is not None:
            label_files.append(folder / "labels.npy")
        for path in label_files:
            if path.exists() and not args.force:
                raise GankitError(f"{path} already exists; use --force to overwrite it")

    def save_npy(path, array) -> None:
        buffer = io.BytesIO()
        np.save(buffer, array)
        atomic_write_bytes(path, buffer.getvalue())

    if npy is not None:
        save_npy(npy, samples)
        say(f"wrote {samples.shape[0]} samples of shape {samples.shape[1:]} to {npy}")
    if folder is not None:
        pixels = to_uint8(samples)
        width = len(str(len(pixels) - 1))
        for i, image in enumerate(pixels):
            png = png_bytes(image.transpose(1, 2, 0))
            atomic_write_bytes(folder / f"sample-{i:0{max(width, 5)}d}.png", png)
        say(f"wrote {len(pixels)} PNG files to {folder}")
    for path in label_files:
        save_npy(path, labels)
        say(f"wrote their classes, int64 (N,), to {path}")
    if grid is not None:
        if labels is not None:  # a row per class asked for, labelled, as the run's own grids
            count = max(int(labels.max()) + 1, int(getattr(loaded.generator, "classes", 0)))
            picture = labelled_rows(samples, labels, [str(k) for k in range(count)])
        else:
            picture = make_grid(samples)
        atomic_write_bytes(grid, png_bytes(picture))
        say(f"wrote a grid of {len(samples)} samples to {grid}")
    if args.json:
        result = {
            "run": str(args.run),
            "n": int(samples.shape[0]),
            "shape": [int(d) for d in samples.shape],
            "npy": None if npy is None else str(npy),
            "png_dir": None if folder is None else str(folder),
            "grid": None if grid is None else str(grid),
            "classes": classes,
        }
        print(json.dumps(result))
    return 0


def _silent(*args, **kwargs) -> None:
    pass
