"""Tiny deterministic stand-ins for the files the image presets read from ``data.path``.

The golden digests must not depend on real MNIST, Fashion-MNIST, CIFAR-10 or a user's folder
(a clone lacks them, and the digests must take seconds), so `write_dataset` writes small
datasets in each published format from scikit-learn's 8x8 digits (1,797 images shipped with
scikit-learn: ten real classes, so the classifier feature space learns something):

* ``mnist``: IDX files, gzip-compressed (``train-images-idx3-ubyte.gz``, ...), 28x28 grey:
  each digit blown up 3x (nearest) to 24x24 and padded by 2;
* ``fashion-mnist``: the same format and size, of other images: each digit transposed and
  inverted (bright ground, dark strokes);
* ``cifar10``: the python batches (``cifar-10-batches-py/data_batch_1..5``, ``test_batch``,
  ``batches.meta``), Python-2-style pickles (protocol 2, bytes keys) as the published ones,
  read by gankit's restricted unpickler; 32x32 colour: each digit blown up 4x, its strokes
  tinted by a fixed colour per class over a ground of the opposite tint;
* ``image-folder``: one sub-folder of PNGs per class (``class-0`` .. ``class-9``), 16x16
  colour (as cifar10 at half the size), so that the preset's resize to 32x32 runs.

Only integer numpy arithmetic and lossless PNG: the same pixels on every machine. The sizes:
`N_HELDOUT` is about the least the evaluation accepts (the classifier's 128 features: FID needs
at least 129 held-out images); `N_TRAIN` is small because the classifier's automatic schedule
makes 100 passes over a split this small (100 optimizer steps of 64 images, a few seconds).
The first 194 digits (image-folder: 200) are taken, about as many of each class.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image

#: images of the training and the test split (mnist, fashion-mnist, cifar10)
N_TRAIN, N_HELDOUT = 64, 130
#: image-folder is split by gankit: this many images in all, 130 held out at
#: data.heldout_fraction = 0.65 (see digests.IMAGE_OVERRIDES)
N_FOLDER = 200
#: stroke colour of each class (RGB); the ground is 255 minus it
TINTS = np.array(
    [
        [255, 64, 64],
        [64, 255, 64],
        [64, 64, 255],
        [255, 255, 64],
        [255, 64, 255],
        [64, 255, 255],
        [255, 160, 32],
        [160, 32, 255],
        [32, 255, 160],
        [200, 200, 200],
    ],
    dtype=np.int64,
)
DATASETS = ("mnist", "fashion-mnist", "cifar10", "image-folder")


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: uint8 ``(1797, 8, 8)`` in 0..255 and int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.images, dtype=np.int64)  # 0..16
    return ((x * 255 + 8) // 16).astype(np.uint8), np.asarray(bunch.target, dtype=np.int64)


def _blow_up(x: np.ndarray, k: int) -> np.ndarray:
    """``(N, H, W)`` -> ``(N, kH, kW)``, each pixel a k x k block."""
    return np.repeat(np.repeat(x, k, axis=1), k, axis=2)


def _tinted(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Grey ``(N, H, W)`` -> uint8 ``(N, 3, H, W)``: strokes in the class's tint."""
    a = x.astype(np.int64)[:, None]  # (N, 1, H, W)
    tint = TINTS[labels][:, :, None, None]  # (N, 3, 1, 1)
    return ((a * tint + (255 - a) * (255 - tint) + 127) // 255).astype(np.uint8)


def _write_idx(path: Path, a: np.ndarray) -> None:
    head = bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    # mtime=0: the same bytes every time (not that the digests read them)
    path.write_bytes(gzip.compress(head + a.astype(np.uint8).tobytes(), mtime=0))


def _mnist_like(folder: Path, fashion: bool) -> None:
    x, y = _digits()
    if fashion:
        x = 255 - x.transpose(0, 2, 1)
    x = np.pad(_blow_up(x, 3), ((0, 0), (2, 2), (2, 2)), constant_values=255 if fashion else 0)
    n = N_TRAIN + N_HELDOUT
    for prefix, part in (("train", slice(0, N_TRAIN)), ("t10k", slice(N_TRAIN, n))):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", x[part])
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", y[part])


def _cifar10(folder: Path) -> None:
    x, y = _digits()
    n = N_TRAIN + N_HELDOUT
    x, y = _tinted(_blow_up(x[:n], 4), y[:n]), y[:n]
    batches = folder / "cifar-10-batches-py"
    batches.mkdir()
    cuts = np.linspace(0, N_TRAIN, 6).astype(int)  # the five data batches share N_TRAIN
    parts = [(f"data_batch_{i + 1}", slice(cuts[i], cuts[i + 1])) for i in range(5)]
    parts.append(("test_batch", slice(N_TRAIN, n)))
    for name, part in parts:
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in y[part]],
            b"data": x[part].reshape(-1, 3072),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(len(y[part]))],
        }
        (batches / name).write_bytes(pickle.dumps(batch, protocol=2))
    names = [n.encode() for n in ("zero one two three four five six seven eight nine").split()]
    meta = {b"label_names": names, b"num_cases_per_batch": int(cuts[1]), b"num_vis": 3072}
    (batches / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))


def _image_folder(folder: Path) -> None:
    x, y = _digits()
    x, y = _tinted(_blow_up(x[:N_FOLDER], 2), y[:N_FOLDER]), y[:N_FOLDER]
    for i, (image, label) in enumerate(zip(x, y)):
        sub = folder / f"class-{label}"
        sub.mkdir(exist_ok=True)
        Image.fromarray(image.transpose(1, 2, 0)).save(sub / f"{i:04d}.png")


def write_dataset(name: str, folder: str | Path) -> Path:
    """Write the stand-in for dataset ``name`` (one of `DATASETS`) into ``folder`` (created;
    must not hold a dataset already) and return it, ready for ``data.path``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if name in ("mnist", "fashion-mnist"):
        _mnist_like(folder, fashion=name == "fashion-mnist")
    elif name == "cifar10":
        _cifar10(folder)
    elif name == "image-folder":
        _image_folder(folder)
    else:
        raise ValueError(f"no stand-in for dataset {name!r}; known: {', '.join(DATASETS)}")
    return folder
