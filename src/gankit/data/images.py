"""Image sources for the metrics: folders of PNG/JPEG, ``.npy`` / ``.npz`` arrays, run
directories, and scikit-learn's digits.

Every source comes back as an array ``(N, C, H, W)`` that is either ``uint8`` in [0, 255] or
``float32`` in [0, 1]. The range is explicit: anything else is refused with the range found
(`gankit.data.checks.check_images`), never silently rescaled.

Run directories: `run_samples_path` is the seam between this module and the run-directory code.
Today a run directory is accepted when it holds ``samples.npy``; when `gankit.runs` grows a
function that resolves (or draws) a run's samples, `run_samples_path` should call it, and
nothing else here needs to change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gankit.data.checks import check_images
from gankit.errors import GankitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
NPZ_KEYS = ("samples", "images", "x", "arr_0")


def load_digits_images(return_labels: bool = False):
    """scikit-learn's 1797 8x8 digits as ``(1797, 1, 8, 8)`` float32 in [0, 1].

    The raw pixels are integers 0..16, so they are divided by 16 (exactly representable).
    With ``return_labels`` also returns the ``(1797,)`` int64 labels.
    """
    from sklearn.datasets import load_digits  # heavy import (~1 s): only the digits need it

    bunch = load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    if return_labels:
        return x, bunch.target.astype(np.int64)
    return x


def run_samples_path(run_dir: Path) -> Path:
    """The samples file of a run directory (seam for the run-directory code, see module doc)."""
    path = Path(run_dir) / "samples.npy"
    if not path.is_file():
        raise GankitError(
            f"{run_dir}: a run directory needs samples.npy (make one with "
            "`gankit sample RUN -n N --out RUN/samples.npy`)"
        )
    return path


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise GankitError(f"{path}: cannot read as a numpy array ({exc})") from None


def _load_npz(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.keys())
            if len(keys) == 1:
                return data[keys[0]]
            for key in NPZ_KEYS:
                if key in data:
                    return data[key]
    except ValueError as exc:
        raise GankitError(f"{path}: cannot read as a numpy archive ({exc})") from None
    raise GankitError(f"{path}: holds arrays {keys}; name the images one of {list(NPZ_KEYS)}")


def _load_folder(path: Path) -> np.ndarray:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise GankitError(
            f"{path}: no images ({', '.join(IMAGE_SUFFIXES)}) and no samples.npy in this folder"
        )
    arrays, first_shape = [], None
    for f in files:
        with Image.open(f) as im:
            mode = "L" if im.mode in ("L", "1", "I;16", "I", "F") else "RGB"
            a = np.asarray(im.convert(mode), dtype=np.uint8)
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        if first_shape is None:
            first_shape = a.shape
        elif a.shape != first_shape:
            raise GankitError(
                f"{f}: image of shape {a.shape[1:]} x {a.shape[0]} channels, but {files[0].name} "
                f"is {first_shape[1:]} x {first_shape[0]}; all images must share one size"
            )
        arrays.append(a)
    return np.stack(arrays)


def load_images(source: str | Path, name: str | None = None) -> np.ndarray:
    """Load an image source as ``(N, C, H, W)`` uint8 or float32 in [0, 1].

    ``source`` is one of: ``"digits"`` (scikit-learn's digits), a ``.npy`` / ``.npz`` file, a
    run directory (holding ``samples.npy``), or a folder of PNG/JPEG images (grayscale images
    give C = 1, everything else RGB). Raises `GankitError` naming the source when it is missing,
    of the wrong shape, or of an implicit range.
    """
    label = name or str(source)
    if str(source) == "digits":
        return load_digits_images()
    path = Path(source)
    if not path.exists():
        raise GankitError(f"{label}: no such file or directory")
    if path.is_dir():
        if (path / "samples.npy").is_file() or (path / "config.toml").is_file():
            arr = _load_npy(run_samples_path(path))
        else:
            arr = _load_folder(path)
    elif path.suffix == ".npy":
        arr = _load_npy(path)
    elif path.suffix == ".npz":
        arr = _load_npz(path)
    else:
        raise GankitError(
            f"{label}: unknown image source (expected a folder, .npy, .npz, a run directory or "
            "'digits')"
        )
    checked = check_images(arr, label)
    out = checked.numpy()
    if out.dtype not in (np.uint8, np.float32):
        out = out.astype(np.float32)
    return out
