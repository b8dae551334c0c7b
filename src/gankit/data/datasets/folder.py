"""Folders of image files (PNG, JPEG, BMP, WEBP) read through Pillow.

Two layouts: a flat folder of images (unlabelled), or a folder of class sub-folders, each
holding that class's images (labelled: the sub-folders sorted by name are classes 0, 1, ...).
Files are read in sorted path order, so a folder always loads the same way. 16-bit images are
scaled to 8 bits (``round(v * 255 / 65535)``), never clipped: a picture saved at 8 and at 16
bits loads the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gankit.data.datasets.dataset import ImageDataset, check_shape_options
from gankit.errors import GankitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
#: Pillow modes that hold one grey channel (with or without alpha)
GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
#: Pillow modes of one grey channel of 16 bits (a 16-bit PNG; older Pillows read it as "I")
SIXTEEN_BIT_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N")


def _eight_bit(im: Image.Image) -> Image.Image:
    """A 16-bit grey image as an 8-bit one ("L"), scaled: ``round(v * 255 / 65535)``, so that
    ``v = 257 p`` (the 16-bit form of the 8-bit ``p``) reads as ``p``. Pillow's own conversion
    clips every value above 255 to white instead."""
    a = np.asarray(im)
    if a.size and (int(a.min()) < 0 or int(a.max()) > 65535):
        raise ValueError(f"pixel values in [{int(a.min())}, {int(a.max())}] are not 16-bit")
    scaled = (a.astype(np.uint32) * 255 + 32767) // 65535
    return Image.fromarray(scaled.astype(np.uint8))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _images_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def _read(path: Path, image_size: int | None, channels: int | None, resample) -> np.ndarray:
    """One image as uint8 ``(C, H, W)``: C = ``channels``, or 1 for a grey image and 3 for
    anything else when ``channels`` is None."""
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in SIXTEEN_BIT_MODES:
                im = _eight_bit(im)
            mode = {1: "L", 3: "RGB"}.get(channels)
            if mode is None:
                mode = "L" if im.mode in GREY_MODES else "RGB"
            im = im.convert(mode)
            if image_size is not None:
                im = im.resize((image_size, image_size), resample=resample)
            a = np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise GankitError(f"{path}: cannot read as an image ({_one_line(exc)})") from None
    return a[None].copy() if a.ndim == 2 else a.transpose(2, 0, 1).copy()


def load_image_folder(
    path: str | Path,
    image_size: int | None = None,
    channels: int | None = None,
    resize_filter: str = "bilinear",
) -> ImageDataset:
    """Load a folder of images as a uint8 `ImageDataset` ``(N, C, H, W)``.

    Layout: if ``path`` holds sub-folders with images, each sub-folder (sorted by name; hidden
    ones, starting with ".", are skipped) is a class, its index the label; otherwise the images
    directly in ``path`` form an unlabelled dataset. Files: ``.png .jpg .jpeg .bmp .webp``
    (any case), in sorted order.

    ``channels``: 1 (Pillow's "L", ITU-R 601 luma) or 3 ("RGB"; transparency is dropped);
    ``None`` = 1 if every image is grayscale, else 3 (grey images repeated to RGB).
    ``image_size``: ``None`` keeps each image's size, and then every image must have the same
    size; an int resizes every image to ``image_size x image_size`` with Pillow's
    ``resize_filter`` (``nearest``, ``bilinear``, ``bicubic``, ``lanczos`` or ``box``).
    Non-square images are resized straight to the square (stretched, not cropped).

    Raises `GankitError`: no such folder; no images (naming the folder); images both in the
    root and in class sub-folders (naming a root image); an unreadable or corrupt image (naming
    it); mixed sizes with ``image_size=None`` (naming the first odd file and both sizes); an
    unknown filter (listing the choices); ``channels`` not in {1, 3}."""
    resample = check_shape_options(image_size, channels, resize_filter)
    root = Path(path).expanduser().absolute()
    if not root.is_dir():
        raise GankitError(f"{root}: no such folder of images")
    root_files = _images_in(root)
    class_dirs = [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    class_dirs = [d for d in class_dirs if _images_in(d)]
    if class_dirs and root_files:
        raise GankitError(
            f"{root_files[0]}: mixed layout: images directly in {root} and in class sub-folders "
            f"({class_dirs[0].name}, ...); move the loose images into a class folder"
        )
    if class_dirs:
        files, labels = [], []
        for label, d in enumerate(class_dirs):
            found = _images_in(d)
            files += found
            labels += [label] * len(found)
        classes = tuple(d.name for d in class_dirs)
    else:
        files, labels, classes = root_files, None, None
    if not files:
        raise GankitError(
            f"{root}: no images ({' '.join(IMAGE_SUFFIXES)}) in this folder or its sub-folders"
        )
    arrays = []
    for f in files:
        a = _read(f, image_size, channels, resample)
        if arrays and a.shape[1:] != arrays[0].shape[1:]:
            raise GankitError(
                f"{f}: image of {a.shape[2]}x{a.shape[1]} pixels, but {files[0]} is "
                f"{arrays[0].shape[2]}x{arrays[0].shape[1]} (width x height); set "
                "data.image_size to resize them all"
            )
        arrays.append(a)
    if channels is None and any(a.shape[0] == 3 for a in arrays):
        arrays = [np.repeat(a, 3, axis=0) if a.shape[0] == 1 else a for a in arrays]
    return ImageDataset(
        name=root.name,
        images=np.stack(arrays),
        labels=None if labels is None else np.asarray(labels, dtype=np.int64),
        classes=classes,
        source=str(root),
    )
