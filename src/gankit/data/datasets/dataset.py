"""An image dataset held in memory, and the training data source that draws minibatches from it.

`ImageDataset` is what every loader in this package returns: images ``(N, C, H, W)`` that are
either ``uint8`` in [0, 255] or ``float32`` in [0, 1] (the edge convention of
`gankit.data.checks`), optional ``int64`` labels ``(N,)`` with their class names, and the
source they came from (for error messages). It is validated once, on construction, so that
everything downstream may trust it.

`ImageSource` turns a dataset into a training data source: minibatches ``Batch(x, y)`` drawn
uniformly with replacement from a ``torch.Generator`` (like `gankit.data.finite.TrainingSet`),
with pixels mapped to [-1, 1], the range the nets work in.

`conform` brings a dataset to a size and channel count (e.g. MNIST trained at 32x32, CIFAR-10
in grayscale) with Pillow's resampling filters and Pillow's own luma conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from gankit.data.batch import Batch
from gankit.data.checks import check_images
from gankit.errors import GankitError

#: Pillow's resampling filters by the name a config uses (``data.resize_filter``)
RESIZE_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos", "box")


def pil_filter(name: str):
    """Pillow's resampling constant for a filter name of `RESIZE_FILTERS`.

    Raises `GankitError` listing the choices for an unknown name."""
    if name not in RESIZE_FILTERS:
        raise GankitError(
            f"data.resize_filter: unknown resize filter {name!r}; choose one of "
            f"{', '.join(RESIZE_FILTERS)}"
        )
    return getattr(Image.Resampling, name.upper())


def check_shape_options(image_size: int | None, channels: int | None, resize_filter: str):
    """Validate ``data.image_size`` (None or an int >= 1), ``data.channels`` (None, 1 or 3) and
    ``data.resize_filter``; return Pillow's filter constant. Raises `GankitError` naming the
    key."""
    resample = pil_filter(resize_filter)
    if channels is not None and (isinstance(channels, bool) or channels not in (1, 3)):
        raise GankitError(f"data.channels: must be 1 or 3, got {channels!r}")
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1
    ):
        raise GankitError(f"data.image_size: must be a positive integer, got {image_size!r}")
    return resample


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Images in memory, with optional labels, checked on construction.

    ``images``: ``(N, C, H, W)``, ``uint8`` in [0, 255] or float in [0, 1] (stored as
    ``float32``), ``C`` in {1, 3}. ``labels``: ``None`` or ``(N,)`` integers, stored as
    ``int64``, each in ``[0, len(classes))``. ``classes``: the class names, index = label; when
    labels come without names they are named ``"0"``, ``"1"``, ... up to the largest label.
    ``source``: the file or folder the images came from (or ``"sklearn"``), named by errors.

    Raises `GankitError` (naming the source) for images off the convention, labels of the wrong
    length, shape or type, labels out of range, or class names without labels.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray | None = None
    classes: tuple[str, ...] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or self.name
        images = self.images
        if isinstance(images, np.ndarray) and not images.flags.writeable:
            images = images.copy()  # torch refuses to share read-only memory
        images = check_images(images, where).numpy()
        if images.dtype != np.uint8 and images.dtype != np.float32:
            images = images.astype(np.float32)
        object.__setattr__(self, "images", images)
        labels, classes = self.labels, self.classes
        if labels is None:
            if classes is not None:
                raise GankitError(f"{where}: class names {list(classes)[:3]}... without labels")
            return
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise GankitError(
                f"{where}: labels must be 1-D integers, got dtype {labels.dtype} and shape "
                f"{labels.shape}"
            )
        if labels.shape[0] != images.shape[0]:
            raise GankitError(
                f"{where}: {labels.shape[0]} labels for {images.shape[0]} images; they must match"
            )
        labels = labels.astype(np.int64)
        lo, hi = int(labels.min()), int(labels.max())
        if classes is None:
            if lo < 0:
                raise GankitError(f"{where}: labels must be >= 0, found {lo}")
            classes = tuple(str(i) for i in range(hi + 1))
        classes = tuple(str(c) for c in classes)
        if lo < 0 or hi >= len(classes):
            raise GankitError(
                f"{where}: labels must lie in [0, {len(classes) - 1}] ({len(classes)} classes), "
                f"found range [{lo}, {hi}]"
            )
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "classes", classes)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        return (
            f"ImageDataset(name={self.name!r}, images={self.images.dtype}{list(self.images.shape)}"
            f", num_classes={self.num_classes}, source={self.source!r})"
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(int(s) for s in self.images.shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes; 0 when the dataset is unlabelled."""
        return 0 if self.classes is None else len(self.classes)

    def subset(self, index) -> ImageDataset:
        """The examples at ``index`` (integer indices, a boolean mask or a slice), in that
        order, with their labels and the same class names. An empty subset is refused."""
        if not isinstance(index, slice):
            index = np.asarray(index)
        return ImageDataset(
            name=self.name,
            images=self.images[index],
            labels=None if self.labels is None else self.labels[index],
            classes=self.classes,
            source=self.source,
        )

    def as_float01(self) -> np.ndarray:
        """The images as a new ``float32`` array in [0, 1] (``uint8`` is divided by 255)."""
        if self.images.dtype == np.uint8:
            return self.images.astype(np.float32) / np.float32(255.0)
        return self.images.astype(np.float32, copy=True)


class ImageSource:
    """The training data source of an `ImageDataset`.

    The images are kept once in memory as a torch tensor (``uint8`` stays ``uint8``, 4x smaller
    than float); only a drawn minibatch is converted to ``float32`` in [-1, 1]."""

    kind = "images"

    def __init__(self, dataset: ImageDataset):
        self.dataset = dataset
        self._images = torch.from_numpy(np.ascontiguousarray(dataset.images))
        self._labels = None if dataset.labels is None else torch.from_numpy(dataset.labels)

    @property
    def device(self) -> torch.device:
        """Where the images are kept and minibatches are drawn (and so where the data stream
        that indexes them must live)."""
        return self._images.device

    @property
    def nbytes(self) -> int:
        """Bytes the images take (what moving them to a device costs)."""
        return self._images.numel() * self._images.element_size()

    def to(self, device: torch.device | str) -> ImageSource:
        """Keep the images (and labels) on ``device`` from now on: a GPU run moves a dataset
        that fits once, and indexes it there instead of copying each minibatch over."""
        self._images = self._images.to(device)
        if self._labels is not None:
            self._labels = self._labels.to(device)
        return self

    def __len__(self) -> int:
        return self._images.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return self.dataset.shape

    @property
    def num_classes(self) -> int:
        """Number of classes; 0 when the dataset is unlabelled."""
        return self.dataset.num_classes

    def batch(
        self, n: int, generator: torch.Generator | None = None, replacement: bool = True
    ) -> Batch:
        """``n`` examples drawn uniformly WITH replacement (``n`` may exceed the dataset), or
        with ``replacement=False`` the first ``n`` of random permutations of the dataset laid end
        to end (each example once per ``len(self)`` of the minibatch: all of them, in a random
        order, when ``n == len(self)``).

        The indices come from ``torch.randint(len(self), (n,), generator=generator)`` (or
        ``torch.randperm``), so a resumed run that restores the generator's state draws the same
        batches. Returns ``Batch(x, y)``: ``x`` ``(n, C, H, W)`` ``float32`` in [-1, 1]
        (``x / 127.5 - 1`` for ``uint8``, ``2 x - 1`` for floats in [0, 1]); ``y`` ``(n,)``
        ``int64`` labels of those very images, or ``None`` when the dataset is unlabelled.
        Raises `GankitError` when ``n < 1``."""
        if n < 1:
            raise GankitError(f"{self.dataset.name}: a batch needs n >= 1 examples, got n={n}")
        if replacement:
            index = torch.randint(len(self), (n,), generator=generator, device=self.device)
        else:
            rounds = -(-n // len(self))
            perms = [
                torch.randperm(len(self), generator=generator, device=self.device)
                for _ in range(rounds)
            ]
            index = torch.cat(perms)[:n]
        x = self._images[index]
        if x.dtype == torch.uint8:
            x = x.to(torch.float32) / 127.5 - 1.0
        else:
            x = x.to(torch.float32) * 2.0 - 1.0
        y = None if self._labels is None else self._labels[index]
        return Batch(x=x, y=y)


def _luma(images: np.ndarray) -> np.ndarray:
    """``(N, 3, H, W)`` -> ``(N, 1, H, W)`` by ITU-R 601 luma, exactly as Pillow's "L" does."""
    if images.dtype == np.uint8:
        r, g, b = (images[:, i : i + 1].astype(np.uint32) for i in range(3))
        return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)
    f = images.astype(np.float32)
    out = f[:, 0:1] * 0.299 + f[:, 1:2] * 0.587 + f[:, 2:3] * 0.114
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _resize(images: np.ndarray, size: int, resample) -> np.ndarray:
    """Every channel of every image resized to ``size x size`` by Pillow (per-channel "L" for
    uint8, "F" for float, then clipped to [0, 1]: bicubic and lanczos overshoot)."""
    n, c = images.shape[:2]
    dtype = np.uint8 if images.dtype == np.uint8 else np.float32
    src = images if dtype == np.uint8 else images.astype(np.float32)
    out = np.empty((n, c, size, size), dtype=dtype)
    for i in range(n):
        for j in range(c):
            im = Image.fromarray(np.ascontiguousarray(src[i, j]))
            out[i, j] = np.asarray(im.resize((size, size), resample=resample))
    if dtype == np.float32:
        np.clip(out, 0.0, 1.0, out=out)
    return out


def conform(
    dataset: ImageDataset,
    image_size: int | None = None,
    channels: int | None = None,
    resize_filter: str = "bilinear",
) -> ImageDataset:
    """``dataset`` at ``image_size x image_size`` pixels and ``channels`` channels.

    ``None`` keeps that property. Resizing goes straight to the square with Pillow's
    ``resize_filter`` (non-square images are stretched); 3 -> 1 channel is ITU-R 601 luma as
    Pillow's "L" conversion computes it, 1 -> 3 repeats the channel. Returns the dataset itself
    when nothing changes. Raises `GankitError` for an unknown filter, ``channels`` not in
    {1, 3} or ``image_size < 1``."""
    resample = check_shape_options(image_size, channels, resize_filter)
    images = dataset.images
    c, h, w = dataset.shape
    if channels == 1 and c == 3:
        images = _luma(images)
    if image_size is not None and (h, w) != (image_size, image_size):
        images = _resize(images, image_size, resample)
    if channels == 3 and c == 1:
        images = np.repeat(images, 3, axis=1)
    if images is dataset.images:
        return dataset
    return ImageDataset(dataset.name, images, dataset.labels, dataset.classes, dataset.source)
