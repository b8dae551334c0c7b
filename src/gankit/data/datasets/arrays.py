"""Image datasets stored as numpy arrays: a ``.npy`` file (images only) or a ``.npz`` archive
(images, and optionally labels).

Files are always read with ``allow_pickle=False``: an array of Python objects would need a
pickle, which can run any code while it loads, so it is refused. The pixel range stays explicit
(`gankit.data.checks.check_images`): ``uint8`` in [0, 255] or float in [0, 1], never rescaled;
``uint16`` is read as 16-bit pixels, [0, 65535] scaled to [0, 1] (`as_pixels`). Any other
kind of array (signed or wider integers, booleans, complex numbers, strings, records) is
refused in one line naming the file and its dtype.
"""

from __future__ import annotations

import math
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from gankit.data.datasets.dataset import ImageDataset
from gankit.errors import GankitError

#: keys of a ``.npz`` that may hold the images, and the labels, in order of preference
IMAGE_KEYS = ("images", "x", "samples", "arr_0")
LABEL_KEYS = ("labels", "y")

NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK"
_READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    KeyError,
    SyntaxError,
    tokenize.TokenError,
    MemoryError,
    zipfile.BadZipFile,
    zlib.error,
)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _why(exc: BaseException) -> str:
    text = _one_line(exc)
    if "allow_pickle" in text:
        return "holds an object array or pickled data (refused: gankit uses allow_pickle=False)"
    return f"truncated or corrupt ({text})"


def _check_header(fh, available: int, where: str) -> None:
    """Read a ``.npy`` header from ``fh`` and refuse one that promises more bytes than the
    ``available`` ones (a truncated file, or a header written to make numpy allocate terabytes)
    before numpy allocates anything."""
    try:
        version = npy_format.read_magic(fh)
        read_header = (
            npy_format.read_array_header_1_0
            if version == (1, 0)
            else npy_format.read_array_header_2_0
        )
        shape, _, dtype = read_header(fh)
    except _READ_ERRORS as exc:
        raise GankitError(f"{where}: not a readable .npy header ({_one_line(exc)})") from None
    needed = math.prod(shape) * dtype.itemsize
    body = available - fh.tell()
    if needed > body:
        raise GankitError(
            f"{where}: its header promises an array of shape {shape} ({needed:,} bytes) but "
            f"the file holds {max(body, 0):,}: truncated or corrupt"
        )


def _read(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(images, labels or None) as stored, with errors turned into one `GankitError` line."""
    with open(path, "rb") as f:
        magic = f.read(6)
    if path.suffix == ".npy":
        if magic != NPY_MAGIC:
            raise GankitError(f"{path}: not a .npy file (it does not start with \\x93NUMPY)")
        with open(path, "rb") as f:
            _check_header(f, path.stat().st_size, str(path))
        try:
            with open(path, "rb") as f:  # our handle: closed even when numpy fails
                return np.load(f, allow_pickle=False), None
        except _READ_ERRORS as exc:
            raise GankitError(f"{path}: cannot read as a .npy array: {_why(exc)}") from None
    if not magic.startswith(ZIP_MAGIC):
        raise GankitError(f"{path}: not a .npz archive (it does not start with PK, a zip file)")
    key = None
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    _check_header(member, info.file_size, f"{path}[{info.filename!r}]")
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            keys = list(data.keys())
            key = next((k for k in IMAGE_KEYS if k in keys), None)
            if key is None:
                raise GankitError(
                    f"{path}: holds arrays {keys}; store the images under one of "
                    f"{', '.join(IMAGE_KEYS)} (and labels under {' or '.join(LABEL_KEYS)})"
                )
            images = data[key]
            key = next((k for k in LABEL_KEYS if k in keys), None)
            labels = None if key is None else data[key]
    except GankitError:
        raise
    except _READ_ERRORS as exc:
        where = f"[{key!r}]" if key else ""
        raise GankitError(f"{path}{where}: cannot read as a .npz archive: {_why(exc)}") from None
    return images, labels


def as_pixels(images: np.ndarray, where: str) -> np.ndarray:
    """``images`` as pixels `ImageDataset` takes: ``uint8`` as it is, floats as ``float32``
    (their range is checked there), ``uint16`` (16-bit pixels) divided by 65535 into
    ``float32`` in [0, 1]; `GankitError` naming ``where`` for every other dtype."""
    dtype = images.dtype
    if dtype == np.uint8:
        return images
    if dtype == np.uint16:
        return images.astype(np.float32) / np.float32(65535.0)
    if dtype.kind == "f" and dtype.itemsize <= 16:
        if dtype.itemsize > 8:  # long double: through float64, which numpy converts exactly
            images = images.astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            return images.astype(np.float32)
    kinds = {
        "c": "complex numbers",
        "b": "booleans",
        "i": "signed integers",
        "u": "unsigned integers wider than 16 bits",
        "U": "text",
        "S": "bytes",
        "V": "records",
        "M": "dates",
        "m": "time spans",
    }
    what = kinds.get(dtype.kind, "not pixels")
    raise GankitError(
        f"{where}: images of dtype {dtype} ({what}) are not pixels; store uint8 in [0, 255], "
        "uint16 in [0, 65535] or float in [0, 1]"
    )


def load_array_dataset(path: str | Path) -> ImageDataset:
    """Load images (and labels) from a ``.npy`` or ``.npz`` file.

    ``.npy``: the images only. ``.npz``: the images under the first of ``images``, ``x``,
    ``samples``, ``arr_0`` that is present; labels (optional) under ``labels`` or ``y``,
    ``(N,)`` integers >= 0 (classes are named "0".."max"). Images are ``(N, C, H, W)`` with
    C in {1, 3}, or ``(N, H, W)`` read as one channel; ``uint8`` in [0, 255], ``uint16`` in
    [0, 65535] (scaled to float in [0, 1]) or float in [0, 1] (kept as ``float32``).

    Raises `GankitError`, one line naming the file (and key): no such file, another suffix, an
    object array (``allow_pickle=False``), a truncated or corrupt file, no images key, images
    off the convention or of another dtype (complex, signed integers, ...), labels of the
    wrong length or range."""
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise GankitError(f"{path}: no such file")
    if path.suffix not in (".npy", ".npz"):
        raise GankitError(f"{path}: expected a .npy or .npz file")
    images, labels = _read(path)
    images = as_pixels(images, str(path))
    if images.ndim == 3:
        images = images[:, None, :, :]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise GankitError(
                f"{path}: labels must be 1-D integers, got dtype {labels.dtype} and shape "
                f"{labels.shape}"
            )
    return ImageDataset(name=path.stem, images=images, labels=labels, source=str(path))
