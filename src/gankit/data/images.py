"""Image sources for the metrics (`gankit fid`, `gankit features`): folders of images, ``.npy`` /
``.npz`` arrays, run directories, and scikit-learn's digits, read by the dataset loaders of
`gankit.data.datasets` (one reader per format in gankit).

Every source comes back as an array ``(N, C, H, W)`` that is either ``uint8`` in [0, 255] or
``float32`` in [0, 1]. The range is explicit: anything else is refused with the range found
(`gankit.data.checks.check_images`), never silently rescaled.

A run directory is read through its ``samples.npy`` (`run_samples_path`; make one with
``gankit sample RUN -n N --out RUN/samples.npy``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.data.checks import check_images
from gankit.data.datasets import load_array_dataset, load_digits_dataset, load_image_folder
from gankit.errors import GankitError


def load_digits_images(return_labels: bool = False):
    """scikit-learn's 1797 8x8 digits as ``(1797, 1, 8, 8)`` float32 in [0, 1] (pixels / 16,
    exactly representable); with ``return_labels`` also the ``(1797,)`` int64 labels."""
    digits = load_digits_dataset()
    return (digits.images, digits.labels) if return_labels else digits.images


def run_samples_path(run_dir: Path) -> Path:
    """The samples file of a run directory."""
    path = Path(run_dir) / "samples.npy"
    if not path.is_file():
        raise GankitError(
            f"{run_dir}: a run directory needs samples.npy (make one with "
            "`gankit sample RUN -n N --out RUN/samples.npy`)"
        )
    return path


def load_images(source: str | Path, name: str | None = None) -> np.ndarray:
    """Load an image source as ``(N, C, H, W)`` uint8 or float32 in [0, 1].

    ``source`` is one of: ``"digits"`` (scikit-learn's digits), a ``.npy`` / ``.npz`` file, a
    run directory (holding ``samples.npy``), or a folder of images (class sub-folders are read
    too; grayscale images give C = 1, everything else RGB). Raises `GankitError` naming the
    source when it is missing, of the wrong shape, or of an implicit range.
    """
    label = name or str(source)
    if str(source) == "digits":
        return load_digits_images()
    path = Path(source)
    if not path.exists():
        raise GankitError(f"{label}: no such file or directory")
    if path.is_dir():
        if (path / "samples.npy").is_file() or (path / "config.toml").is_file():
            images = load_array_dataset(run_samples_path(path)).images
        else:
            images = load_image_folder(path).images
    elif path.suffix in (".npy", ".npz"):
        images = load_array_dataset(path).images
    else:
        raise GankitError(
            f"{label}: unknown image source (expected a folder, .npy, .npz, a run directory or "
            "'digits')"
        )
    out = check_images(images, label).numpy()
    return out if out.dtype in (np.uint8, np.float32) else out.astype(np.float32)
