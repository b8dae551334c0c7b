"""The image datasets by name (``data.name``), each loaded as a (train, held-out) pair.

Datasets published with a split (MNIST, Fashion-MNIST: train / t10k; CIFAR-10: the data batches
/ the test batch; the digits: gankit's fixed split) keep it. A folder of images or an array file
is split here by a seeded permutation (``numpy.random.default_rng(seed)``), ``heldout_fraction``
of it held out. Then ``image_size`` / ``channels`` are applied to both sides alike, so that e.g.
MNIST can be trained at 32x32 or CIFAR-10 in grayscale (`gankit.data.datasets.dataset.conform`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gankit.data.datasets.arrays import load_array_dataset
from gankit.data.datasets.cifar import cifar10_class_names, load_cifar10_split
from gankit.data.datasets.dataset import ImageDataset, check_shape_options, conform
from gankit.data.datasets.digits import split_digits
from gankit.data.datasets.folder import load_image_folder
from gankit.data.datasets.idx import idx_split_files, load_idx_split
from gankit.errors import GankitError

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class SplitOptions:
    """What `load_splits` passes to a loader besides the path (see `load_splits`)."""

    image_size: int | None = None
    channels: int | None = None
    resize_filter: str = "bilinear"
    heldout_fraction: float = 0.1
    seed: int = 0


#: a loader: (data.path or None, options) -> (train, heldout)
Loader = Callable[[str | None, SplitOptions], tuple[ImageDataset, ImageDataset]]
_LOADERS: dict[str, Loader] = {}


def register_dataset(name: str, fn: Loader) -> None:
    """Make ``fn`` loadable as ``data.name = name``. ``fn(path, options)`` returns ``(train,
    heldout)``; `load_splits` then applies ``image_size`` / ``channels`` to both (a loader may
    apply them itself, as the image folder does, and then nothing changes). Raises `GankitError`
    for a name already registered."""
    if name in _LOADERS:
        raise GankitError(f"data.name: a dataset named {name!r} is already registered")
    _LOADERS[name] = fn


def dataset_names() -> tuple[str, ...]:
    """The registered dataset names, sorted."""
    return tuple(sorted(_LOADERS))


def split_seeded(
    dataset: ImageDataset, heldout_fraction: float, seed: int
) -> tuple[ImageDataset, ImageDataset]:
    """``(train, heldout)`` of one dataset: a ``default_rng(seed)`` permutation, the first
    ``round(N * heldout_fraction)`` of it held out (clamped so that each side has at least one
    image); each side keeps the dataset's order. Raises `GankitError` for fewer than 2 images
    or a fraction outside (0, 1)."""
    if not 0.0 < heldout_fraction < 1.0:
        raise GankitError(
            f"data.heldout_fraction: must lie strictly between 0 and 1, got {heldout_fraction!r}"
        )
    n = len(dataset)
    if n < 2:
        raise GankitError(
            f"{dataset.source or dataset.name}: {n} image; a train / held-out split needs at "
            "least 2"
        )
    k = min(max(1, round(n * heldout_fraction)), n - 1)
    perm = np.random.default_rng(seed).permutation(n)
    return dataset.subset(np.sort(perm[k:])), dataset.subset(np.sort(perm[:k]))


def _need_path(name: str, path: str | None, what: str) -> Path:
    if not path:
        raise GankitError(f"data.path: {name} needs {what}; set data.path")
    return Path(path).expanduser().absolute()


def _digits(path: str | None, opts: SplitOptions) -> tuple[ImageDataset, ImageDataset]:
    if path:
        raise GankitError("data.path: digits ships with scikit-learn; leave data.path empty")
    return split_digits()


def _idx_loader(name: str, classes: tuple[str, ...]) -> Loader:
    def load(path: str | None, opts: SplitOptions) -> tuple[ImageDataset, ImageDataset]:
        folder = _need_path(
            name,
            path,
            "the folder holding train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
            "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]",
        )
        out = []
        for split in ("train", "test"):
            images, labels = load_idx_split(folder, split)
            image_file, label_file = idx_split_files(folder, split)
            if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
                raise GankitError(
                    f"{label_file}: labels must lie in [0, {len(classes) - 1}] for {name}, found "
                    f"range [{labels.min()}, {labels.max()}]"
                )
            out.append(ImageDataset(name, images, labels, classes, str(image_file)))
        return out[0], out[1]

    return load


def _cifar10(path: str | None, opts: SplitOptions) -> tuple[ImageDataset, ImageDataset]:
    folder = _need_path(
        "cifar10", path, "the folder cifar-10-batches-py or cifar-10-batches-bin (or its parent)"
    )
    classes = cifar10_class_names(folder)
    out = []
    for split in ("train", "test"):
        images, labels = load_cifar10_split(folder, split)
        out.append(ImageDataset("cifar10", images, labels, classes, f"{folder} ({split} split)"))
    return out[0], out[1]


def _image_folder(path: str | None, opts: SplitOptions) -> tuple[ImageDataset, ImageDataset]:
    folder = _need_path("image-folder", path, "a folder of images (or of class sub-folders)")
    full = load_image_folder(folder, opts.image_size, opts.channels, opts.resize_filter)
    return split_seeded(full, opts.heldout_fraction, opts.seed)


def _arrays(path: str | None, opts: SplitOptions) -> tuple[ImageDataset, ImageDataset]:
    file = _need_path("arrays", path, "a .npy or .npz file of images")
    return split_seeded(load_array_dataset(file), opts.heldout_fraction, opts.seed)


register_dataset("digits", _digits)
register_dataset("mnist", _idx_loader("mnist", MNIST_CLASSES))
register_dataset("fashion-mnist", _idx_loader("fashion-mnist", FASHION_MNIST_CLASSES))
register_dataset("cifar10", _cifar10)
register_dataset("image-folder", _image_folder)
register_dataset("arrays", _arrays)


def load_splits(
    name: str,
    path: str | None,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    resize_filter: str = "bilinear",
    heldout_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[ImageDataset, ImageDataset]:
    """The dataset ``name`` as ``(train, heldout)``.

    ``path`` (``data.path``): the folder or file to read; must be empty for ``digits`` and is
    required by every other built-in dataset. ``heldout_fraction`` and ``seed`` split the
    datasets that have no published split (``image-folder``, ``arrays``); the others keep
    theirs (``digits``: 1500 / 297; MNIST-likes: 60000 / 10000; CIFAR-10: 50000 / 10000).
    ``image_size`` (square side), ``channels`` (1 or 3) and ``resize_filter`` (Pillow's
    ``nearest``, ``bilinear``, ``bicubic``, ``lanczos``, ``box``) bring both sides to one shape.

    Raises `GankitError` for an unknown name (listing the known ones), a bad option, a missing
    or forbidden path, and every error of the loaders (naming the file)."""
    if name not in _LOADERS:
        raise GankitError(
            f"data.name: unknown dataset {name!r}; known: {', '.join(dataset_names())}"
        )
    check_shape_options(image_size, channels, resize_filter)  # fail before reading anything
    opts = SplitOptions(image_size, channels, resize_filter, heldout_fraction, seed)
    train, heldout = _LOADERS[name](path or None, opts)
    return tuple(conform(d, image_size, channels, resize_filter) for d in (train, heldout))
