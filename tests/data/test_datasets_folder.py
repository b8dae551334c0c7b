"""Folders of images read through Pillow: layouts, channels, sizes, filters and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dataset_errors import one_line_error
from PIL import Image

from gankit.data.datasets import load_image_folder
from gankit.errors import GankitError


def save(path: Path, a: np.ndarray) -> np.ndarray:
    """Save (H, W) grey or (H, W, 3) RGB uint8 losslessly (PNG/BMP/lossless WEBP)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"lossless": True} if path.suffix == ".webp" else {}
    Image.fromarray(a).save(path, **kwargs)
    return a


def rng_image(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_flat_grey_folder_round_trip_sorted(tmp_path):
    imgs = {
        name: save(tmp_path / name, rng_image(i, (5, 4)))
        for i, name in enumerate(["b.png", "a.bmp", "c.PNG"])
    }
    (tmp_path / "notes.txt").write_text("not an image")
    d = load_image_folder(tmp_path)
    assert d.images.shape == (3, 1, 5, 4) and d.images.dtype == np.uint8
    assert d.labels is None and d.num_classes == 0 and d.source == str(tmp_path)
    for i, name in enumerate(["a.bmp", "b.png", "c.PNG"]):
        assert np.array_equal(d.images[i, 0], imgs[name])


def test_class_folders_become_labels(tmp_path):
    save(tmp_path / "dog" / "1.png", np.full((3, 3), 20, np.uint8))
    save(tmp_path / "cat" / "2.png", np.full((3, 3), 10, np.uint8))
    save(tmp_path / "cat" / "1.webp", np.full((3, 3), 11, np.uint8))
    (tmp_path / "empty").mkdir()
    save(tmp_path / ".hidden" / "x.png", np.full((3, 3), 99, np.uint8))
    d = load_image_folder(tmp_path)
    assert d.classes == ("cat", "dog") and list(d.labels) == [0, 0, 1]
    assert [int(v) for v in d.images[:, 0, 0, 0]] == [11, 10, 20]


def test_mixed_grey_and_rgb_gives_rgb(tmp_path):
    grey = save(tmp_path / "a.png", rng_image(0, (4, 4)))
    rgb = save(tmp_path / "b.png", rng_image(1, (4, 4, 3)))
    d = load_image_folder(tmp_path)
    assert d.shape == (3, 4, 4)
    assert all(np.array_equal(d.images[0, c], grey) for c in range(3))
    assert np.array_equal(d.images[1], rgb.transpose(2, 0, 1))
    one = load_image_folder(tmp_path, channels=1)
    assert one.shape == (1, 4, 4)
    assert np.array_equal(one.images[1, 0], np.asarray(Image.fromarray(rgb).convert("L")))
    assert load_image_folder(tmp_path, channels=3).shape == (3, 4, 4)


def test_jpeg_is_read(tmp_path):
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(tmp_path / "x.jpg", quality=95)
    d = load_image_folder(tmp_path)
    assert d.shape == (3, 8, 8) and abs(int(d.images.mean()) - 128) <= 2


@pytest.mark.parametrize("flt", ["nearest", "bilinear", "bicubic", "lanczos", "box"])
def test_resize_to_square_with_filter(tmp_path, flt):
    a = save(tmp_path / "wide.png", rng_image(0, (4, 10, 3)))
    save(tmp_path / "small.png", rng_image(1, (3, 3, 3)))
    d = load_image_folder(tmp_path, image_size=6, resize_filter=flt)
    assert d.shape == (3, 6, 6)
    rs = getattr(Image.Resampling, flt.upper())
    want = np.asarray(Image.fromarray(a).resize((6, 6), resample=rs)).transpose(2, 0, 1)
    assert np.array_equal(d.images[1], want)  # sorted: small.png, wide.png


def test_mixed_sizes_without_image_size(tmp_path):
    save(tmp_path / "a.png", rng_image(0, (4, 4)))
    save(tmp_path / "b.png", rng_image(1, (4, 4)))
    save(tmp_path / "c.png", rng_image(2, (5, 4)))
    with pytest.raises(GankitError) as e:
        load_image_folder(tmp_path)
    one_line_error(e, tmp_path / "c.png", "a.png", "4x5", "4x4")


def test_empty_folder_and_missing_folder(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(GankitError, match="no images") as e:
        load_image_folder(tmp_path)
    one_line_error(e, tmp_path)
    with pytest.raises(GankitError) as e:
        load_image_folder(tmp_path / "absent")
    one_line_error(e, tmp_path / "absent")


def test_mixed_layout(tmp_path):
    save(tmp_path / "cls" / "a.png", rng_image(0, (4, 4)))
    save(tmp_path / "loose.png", rng_image(1, (4, 4)))
    with pytest.raises(GankitError, match="mixed layout") as e:
        load_image_folder(tmp_path)
    one_line_error(e, tmp_path / "loose.png")


def test_corrupt_and_truncated_images(tmp_path):
    save(tmp_path / "a.png", rng_image(0, (16, 16)))
    (tmp_path / "b.png").write_bytes(b"this is not a png")
    with pytest.raises(GankitError) as e:
        load_image_folder(tmp_path)
    one_line_error(e, tmp_path / "b.png")
    good = (tmp_path / "a.png").read_bytes()
    (tmp_path / "b.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(GankitError) as e:
        load_image_folder(tmp_path)
    one_line_error(e, tmp_path / "b.png")


def test_bad_options(tmp_path):
    save(tmp_path / "a.png", rng_image(0, (4, 4)))
    with pytest.raises(GankitError) as e:
        load_image_folder(tmp_path, image_size=8, resize_filter="cubic")
    one_line_error(e, "'cubic'", "nearest, bilinear, bicubic, lanczos, box")
    with pytest.raises(GankitError) as e:
        load_image_folder(tmp_path, channels=4)
    one_line_error(e, "data.channels")
