"""MNIST and Fashion-MNIST in their published IDX format, raw or gzip-compressed.

An IDX file is a header and the array's bytes, big-endian: two zero bytes, a type code
(0x08 uint8, which MNIST uses; 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64),
the number of dimensions, then each size as a big-endian uint32. Everything is checked before
it is trusted: the magic, the type code, that the promised size is sane (at most
`MAX_IDX_BYTES`, refused before anything is allocated), that the file holds exactly the promised
bytes (neither truncated nor followed by trailing bytes), and the gzip stream's integrity.
Every failure is one `GankitError` line naming the file.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from gankit.errors import GankitError

#: the largest array an IDX header may promise (bytes); MNIST's train images are 47 MB
MAX_IDX_BYTES = 2**31

#: IDX type code -> big-endian numpy dtype
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

GZIP_MAGIC = b"\x1f\x8b"
IDX_SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _read_exactly(f, n: int, chunk: int = 2**24) -> bytearray:
    """Up to ``n`` bytes of ``f`` (fewer only at the end of the stream), in a writable buffer
    that grows chunk by chunk: a header that lies about the size allocates only what the file
    really holds."""
    buf = bytearray()
    while len(buf) < n:
        part = f.read(min(chunk, n - len(buf)))
        if not part:
            break
        buf += part
    return buf


def _count_rest(f, limit: int = 2**20) -> tuple[int, bool]:
    """How many bytes remain in ``f`` (reading at most ``limit``), and whether there are more."""
    rest = len(f.read(limit))
    more = rest == limit and bool(f.read(1))
    return rest, more


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (raw, or gzip-compressed: detected by the magic bytes ``1f 8b``, not by
    the suffix) into a writable array of the header's shape, in native byte order.

    Raises `GankitError`, one line naming the file, when the file is missing, its magic or type
    code is wrong, its header promises more than `MAX_IDX_BYTES` bytes, it is shorter than its
    header promises (expected vs found bytes) or has trailing bytes, or its gzip stream is
    corrupt."""
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise GankitError(f"{path}: no such IDX file")
    compressed = False
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                    return _read_idx_stream(f, path, compressed=True)
            return _read_idx_stream(raw, path, compressed=False)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise GankitError(f"{path}: corrupt gzip stream ({_one_line(exc)})") from None
    except OSError as exc:
        if compressed:
            raise GankitError(f"{path}: corrupt gzip stream ({_one_line(exc)})") from None
        raise GankitError(f"{path}: cannot read ({_one_line(exc)})") from None


def _read_idx_stream(f, path: Path, compressed: bool) -> np.ndarray:
    what = "uncompressed bytes" if compressed else "bytes"
    head = _read_exactly(f, 4)
    if len(head) < 4:
        raise GankitError(
            f"{path}: truncated IDX file: the header needs 4 {what}, found {len(head)}"
        )
    if head[0] != 0 or head[1] != 0 or head[2] not in IDX_DTYPES or head[3] == 0:
        raise GankitError(
            f"{path}: not an IDX file: magic {bytes(head).hex(' ')} (expected 00 00, a type code "
            "in 08 09 0b 0c 0d 0e and a dimension count >= 1)"
        )
    dtype, ndim = IDX_DTYPES[head[2]], head[3]
    dims_raw = _read_exactly(f, 4 * ndim)
    header = 4 + 4 * ndim
    if len(dims_raw) < 4 * ndim:
        raise GankitError(
            f"{path}: truncated IDX file: the header of {ndim} dimensions needs {header} {what}, "
            f"found {4 + len(dims_raw)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(bytes(dims_raw), dtype=">u4"))
    body = math.prod(shape) * dtype.itemsize
    if body > MAX_IDX_BYTES:
        raise GankitError(
            f"{path}: IDX header promises shape {shape} of {dtype.name} = {body} bytes, more "
            f"than the {MAX_IDX_BYTES} gankit accepts (corrupt header?)"
        )
    data = _read_exactly(f, body)
    if len(data) < body:
        raise GankitError(
            f"{path}: truncated IDX file: header promises shape {shape} of {dtype.name}, "
            f"{header + body} {what} in all, found {header + len(data)}"
        )
    extra, more = _count_rest(f)
    if extra:
        found = f"over {header + body + extra}" if more else str(header + body + extra)
        raise GankitError(
            f"{path}: trailing bytes after the IDX array: header promises shape {shape} of "
            f"{dtype.name}, {header + body} {what} in all, found {found}"
        )
    arr = np.frombuffer(data, dtype=dtype).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=dtype.itemsize > 1)


def idx_file_names(split: str, kind: str) -> tuple[str, ...]:
    """The file names looked for, in order: e.g. for ("train", "images")
    ``train-images-idx3-ubyte``, ``train-images.idx3-ubyte`` and both with ``.gz``."""
    prefix = IDX_SPLIT_PREFIX[split]
    rank = 3 if kind == "images" else 1
    bases = (f"{prefix}-{kind}-idx{rank}-ubyte", f"{prefix}-{kind}.idx{rank}-ubyte")
    return tuple(b + suffix for b in bases for suffix in ("", ".gz"))


def _find(folder: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def idx_split_files(folder: str | Path, split: str) -> tuple[Path, Path]:
    """``(images file, labels file)`` of one split in ``folder`` (see `load_idx_split` for the
    names). Raises `GankitError` naming the folder and the names looked for when either is
    missing."""
    if split not in IDX_SPLIT_PREFIX:
        raise GankitError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(folder).expanduser().absolute()
    if not folder.is_dir():
        raise GankitError(f"{folder}: no such folder (expected MNIST-like IDX files in it)")
    image_names, label_names = idx_file_names(split, "images"), idx_file_names(split, "labels")
    image_path, label_path = _find(folder, image_names), _find(folder, label_names)
    if image_path is None or label_path is None:
        missing = [n for n, p in ((image_names, image_path), (label_names, label_path)) if not p]
        looked = " and ".join(f"{n[0]}[.gz] (or {n[2]}[.gz])" for n in missing)
        raise GankitError(f"{folder}: no {split} split here: looked for {looked}")
    return image_path, label_path


def load_idx_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One split of an MNIST-like dataset from ``folder``.

    ``split`` is ``"train"`` (files ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte``)
    or ``"test"`` (``t10k-...``); each name may also be spelled ``train-images.idx3-ubyte`` and
    carry ``.gz``. Returns ``(images, labels)``: ``uint8`` ``(N, 1, H, W)`` (H, W from the
    header; 28x28 for MNIST) and ``int64`` ``(N,)``.

    Raises `GankitError`: the folder missing or holding neither file (naming the folder and the
    names looked for), one of the files missing, images not 3-D uint8, labels not 1-D integers,
    label and image counts that differ (naming both files), and every error of `read_idx`."""
    image_path, label_path = idx_split_files(folder, split)
    images = read_idx(image_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise GankitError(
            f"{image_path}: images must be 3-D (N, H, W) uint8 (type 0x08), got "
            f"{images.ndim}-D {images.dtype} of shape {images.shape}"
        )
    labels = read_idx(label_path)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise GankitError(
            f"{label_path}: labels must be 1-D integers, got {labels.ndim}-D {labels.dtype} of "
            f"shape {labels.shape}"
        )
    if labels.shape[0] != images.shape[0]:
        raise GankitError(
            f"{label_path}: {labels.shape[0]} labels, but {image_path} holds "
            f"{images.shape[0]} images; they must match"
        )
    return images[:, None, :, :], labels.astype(np.int64)
