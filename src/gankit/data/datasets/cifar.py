"""CIFAR-10 in both of its published forms, read without trusting the files.

* The python batches (``cifar-10-batches-py``: ``data_batch_1`` .. ``data_batch_5``,
  ``test_batch``, optional ``batches.meta``) are Python-2 pickles of a dict ``{b'batch_label',
  b'labels': [N ints], b'data': uint8 (N, 3072), b'filenames'}``. A pickle can run any code
  while it loads, so they are read by `restricted_loads`: an unpickler that hands out only the
  few globals such a file needs (numpy's array reconstructors, ``numpy.ndarray``,
  ``numpy.dtype``, and ``_codecs.encode`` restricted to latin-1/utf-8/ascii, which pickles of
  Python-3 ``bytes`` at protocol 2 use) and refuses every other one (``os.system``,
  ``builtins.eval``, ...) before it is called. The loaded object is then checked for the
  expected structure.
* The binary batches (``cifar-10-batches-bin``: ``data_batch_1.bin`` .. ``data_batch_5.bin``,
  ``test_batch.bin``, optional ``batches.meta.txt`` with one class name a line) are records of
  1 label byte and 3072 pixel bytes.

In both, the 3072 pixels of an image are its red, green and blue 32x32 planes, row-major:
exactly ``(3, 32, 32)``. Every failure is one `GankitError` line naming the file.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import io
import pickle
from pathlib import Path

import numpy as np

from gankit.errors import GankitError

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # pragma: no cover - numpy < 2
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

#: the standard class names, index = label
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
RECORD_BYTES = 1 + 3072
PY_FOLDER, BIN_FOLDER = "cifar-10-batches-py", "cifar-10-batches-bin"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"

_SAFE_ENCODINGS = ("latin1", "latin-1", "latin_1", "iso-8859-1", "utf-8", "utf8", "ascii")


def _encode(text, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as pickles of ``bytes`` use it, limited to plain text codecs."""
    if not isinstance(text, str) or encoding.lower() not in _SAFE_ENCODINGS:
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} refused")
    return codecs.encode(text, encoding, errors)


#: the only globals a CIFAR-10 batch may name, and what they resolve to
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,  # protocol-5 pickles of arrays
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        super().__init__(file, encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str):
        # Python-2 names (__builtin__.eval) as Python 3 knows them (builtins.eval)
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise GankitError(
                f"{self.source}: refuses to load {module}.{name} (a CIFAR-10 batch needs only "
                "dicts, lists, bytes, numbers and numpy arrays; this pickle may be malicious)"
            )
        return found

    def persistent_load(self, pid):
        raise GankitError(f"{self.source}: refuses a pickle with persistent ids")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def restricted_loads(data: bytes, source: str):
    """Unpickle ``data`` (a CIFAR-10 python batch) allowing only the globals such a file needs.

    Strings of Python 2 come back as ``bytes`` (``encoding="bytes"``). ``source`` names the
    file in errors. Raises `GankitError` for any other global (``"refuses to load os.system"``:
    nothing is called), and for data that is not a valid pickle."""
    try:
        return _RestrictedUnpickler(io.BytesIO(data), source).load()
    except GankitError:
        raise
    except Exception as exc:  # a broken pickle can raise almost anything: report it as one line
        raise GankitError(f"{source}: not a valid pickle ({_one_line(exc)})") from None


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        kinds = sorted({type(v).__name__ for v in value})
        return f"a {type(value).__name__} of {', '.join(kinds) or 'nothing'}"
    return "nothing" if value is None else f"a {type(value).__name__}"


def _entry(obj: dict, key: str):
    return obj.get(key.encode(), obj.get(key))


def _check_labels(labels: np.ndarray, path: Path) -> np.ndarray:
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = int(np.flatnonzero((labels < 0) | (labels > 9))[0])
        raise GankitError(
            f"{path}: label {int(labels[bad])} of image {bad} is out of range (CIFAR-10 labels "
            "are 0..9)"
        )
    return labels.astype(np.int64)


def read_python_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One python batch: ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``.

    Raises `GankitError` naming the file when it is missing, refused by `restricted_loads`, or
    not a dict holding ``data`` (a uint8 array ``(N, 3072)``) and ``labels`` (N ints in 0..9).
    """
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise GankitError(f"{path}: no such CIFAR-10 batch")
    obj = restricted_loads(path.read_bytes(), str(path))
    if not isinstance(obj, dict):
        raise GankitError(
            f"{path}: not a CIFAR-10 batch: holds a {type(obj).__name__}, expected a dict with "
            "'data' and 'labels'"
        )
    data, labels = _entry(obj, "data"), _entry(obj, "labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise GankitError(
            f"{path}: 'data' must be a uint8 array (N, 3072), found {_describe(data)}"
        )
    if data.shape[1] != 3072:
        raise GankitError(
            f"{path}: 'data' must be (N, 3072) (3 x 32 x 32 pixels), found shape {data.shape}"
        )
    if isinstance(labels, np.ndarray):
        ok = labels.ndim == 1 and labels.dtype.kind in "iu"
    else:
        ok = isinstance(labels, (list, tuple)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels
        )
    if not ok:
        raise GankitError(f"{path}: 'labels' must be a list of ints, found {_describe(labels)}")
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if labels.shape[0] != data.shape[0]:
        raise GankitError(
            f"{path}: {labels.shape[0]} labels for {data.shape[0]} images; they must match"
        )
    images = data.reshape(-1, 3, 32, 32)
    if not images.flags.writeable:
        images = images.copy()
    return images, _check_labels(labels, path)


def read_binary_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch of records (1 label byte + 3072 pixel bytes):
    ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``.

    Raises `GankitError` naming the file when it is missing, empty, not a whole number of
    3073-byte records (truncated), or holds a label above 9."""
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise GankitError(f"{path}: no such CIFAR-10 batch")
    raw = bytearray(path.read_bytes())
    if not raw:
        raise GankitError(f"{path}: empty CIFAR-10 batch")
    if len(raw) % RECORD_BYTES:
        raise GankitError(
            f"{path}: truncated CIFAR-10 batch: {len(raw)} bytes is not a whole number of "
            f"{RECORD_BYTES}-byte records ({len(raw) // RECORD_BYTES} records and "
            f"{len(raw) % RECORD_BYTES} bytes)"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    images = np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32)
    return images, _check_labels(records[:, 0], path)


def _class_names(names, path: Path) -> tuple[str, ...]:
    if len(names) != 10:
        raise GankitError(f"{path}: expected 10 class names, found {len(names)}")
    return tuple(names)


def _locate(folder: Path) -> tuple[Path, str]:
    """The folder holding the batches and their form ("python" or "binary")."""
    if not folder.is_dir():
        raise GankitError(f"{folder}: no such folder (expected CIFAR-10 batches in it)")
    for d in (folder, folder / PY_FOLDER, folder / BIN_FOLDER):
        if (d / TRAIN_BATCHES[0]).is_file() or (d / TEST_BATCH).is_file():
            return d, "python"
        if (d / f"{TRAIN_BATCHES[0]}.bin").is_file() or (d / f"{TEST_BATCH}.bin").is_file():
            return d, "binary"
    raise GankitError(
        f"{folder}: no CIFAR-10 batches found: expected data_batch_1..data_batch_5 and test_batch "
        f"(python form, here or in {PY_FOLDER}/) or data_batch_1.bin..data_batch_5.bin and "
        f"test_batch.bin (binary form, here or in {BIN_FOLDER}/)"
    )


def cifar10_class_names(folder: str | Path) -> tuple[str, ...]:
    """The class names: from ``batches.meta`` (python form, key ``label_names``) or
    ``batches.meta.txt`` (binary form, one name a line) when present, else `CIFAR10_CLASSES`.

    Raises `GankitError` naming the meta file when it is malformed or lists other than 10."""
    where, form = _locate(Path(folder).expanduser().absolute())
    if form == "python" and (where / "batches.meta").is_file():
        path = where / "batches.meta"
        meta = restricted_loads(path.read_bytes(), str(path))
        names = _entry(meta, "label_names") if isinstance(meta, dict) else None
        if not isinstance(names, (list, tuple)) or not all(
            isinstance(n, (bytes, str)) for n in names
        ):
            raise GankitError(f"{path}: expected a dict with 'label_names', a list of strings")
        names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]
        return _class_names(names, path)
    if form == "binary" and (where / "batches.meta.txt").is_file():
        path = where / "batches.meta.txt"
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise GankitError(f"{path}: not UTF-8 text ({_one_line(exc)})") from None
        return _class_names([line.strip() for line in text.splitlines() if line.strip()], path)
    return CIFAR10_CLASSES


def load_cifar10_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One split of CIFAR-10: ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``.

    ``folder`` is the ``cifar-10-batches-py`` / ``-bin`` folder itself or its parent; the form
    found first (the folder itself, then ``-py``, then ``-bin``) is read. ``split`` is
    ``"train"`` (the five data batches, concatenated in order: 50000 images) or ``"test"``
    (``test_batch``: 10000). Raises `GankitError` naming the folder and the expected files when
    no batches are found, naming a missing batch, and every error of `read_python_batch` /
    `read_binary_batch`."""
    if split not in ("train", "test"):
        raise GankitError(f"split must be 'train' or 'test', got {split!r}")
    where, form = _locate(Path(folder).expanduser().absolute())
    names = TRAIN_BATCHES if split == "train" else (TEST_BATCH,)
    read = read_python_batch if form == "python" else read_binary_batch
    suffix = "" if form == "python" else ".bin"
    parts = [read(where / f"{name}{suffix}") for name in names]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
