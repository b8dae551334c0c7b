"""ImageDataset validation, ImageSource minibatches, and conform (resize / channels)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dataset_errors import one_line_error
from PIL import Image

from gankit.data.batch import Batch
from gankit.data.datasets import ImageDataset, ImageSource, conform
from gankit.errors import GankitError


def labelled(n: int = 10, classes: int = 5) -> ImageDataset:
    """Image i has every pixel equal to 10 * label(i), so a batch shows whether labels follow."""
    labels = np.arange(n) % classes
    images = np.broadcast_to((labels * 10).astype(np.uint8)[:, None, None, None], (n, 1, 4, 4))
    return ImageDataset("toy", images.copy(), labels, tuple("abcde"[:classes]), "mem")


def test_dataset_basics():
    d = labelled()
    assert len(d) == 10 and d.shape == (1, 4, 4) and d.num_classes == 5
    assert d.labels.dtype == np.int64 and d.images.dtype == np.uint8
    sub = d.subset([3, 1])
    assert len(sub) == 2 and list(sub.labels) == [3, 1] and sub.classes == d.classes
    assert np.array_equal(sub.images, d.images[[3, 1]])
    f = d.as_float01()
    assert f.dtype == np.float32 and np.allclose(f, d.images / 255.0)
    assert f is not d.images


def test_unlabelled_and_float_images():
    x = np.random.default_rng(0).random((3, 3, 2, 2))  # float64 in [0, 1]
    d = ImageDataset("f", x, source="mem")
    assert d.images.dtype == np.float32 and d.num_classes == 0 and d.labels is None
    assert np.array_equal(d.as_float01(), x.astype(np.float32))


def test_labels_without_names_are_named_by_number():
    d = ImageDataset("n", np.zeros((3, 1, 2, 2), np.uint8), np.array([0, 2, 1]), None, "mem")
    assert d.classes == ("0", "1", "2")


@pytest.mark.parametrize(
    "labels, classes, match",
    [
        (np.array([0, 1]), ("a", "b"), "2 labels for 3 images"),
        (np.array([0, 1, 2]), ("a", "b"), r"\[0, 2\]"),
        (np.array([0, -1, 1]), ("a", "b"), r"\[-1, 1\]"),
        (np.array([0.0, 1.0, 1.0]), ("a", "b"), "1-D integers"),
        (np.array([[0, 1, 1]]), ("a", "b"), "1-D integers"),
        (None, ("a", "b"), "without labels"),
    ],
)
def test_bad_labels(labels, classes, match):
    with pytest.raises(GankitError, match=match) as e:
        ImageDataset("bad", np.zeros((3, 1, 2, 2), np.uint8), labels, classes, "/some/file")
    one_line_error(e, "/some/file")


def test_bad_images_name_the_source():
    with pytest.raises(GankitError) as e:
        ImageDataset("bad", np.full((2, 1, 2, 2), 2.0), None, None, "/x/y.npy")
    one_line_error(e, "/x/y.npy", "[0, 1]")


def test_source_batch_shapes_range_and_labels():
    src = ImageSource(labelled())
    assert src.kind == "images" and len(src) == 10 and src.shape == (1, 4, 4)
    assert src.num_classes == 5
    b = src.batch(64, torch.Generator().manual_seed(1))
    assert isinstance(b, Batch)
    assert b.x.shape == (64, 1, 4, 4) and b.x.dtype == torch.float32
    assert b.y.shape == (64,) and b.y.dtype == torch.int64
    assert b.x.min() >= -1 and b.x.max() <= 1
    # each image's pixel value 10 * label mapped by x / 127.5 - 1: the labels follow the images
    expected = (b.y.to(torch.float32) * 10) / 127.5 - 1
    assert torch.allclose(b.x[:, 0, 0, 0], expected)
    assert torch.equal(b.x, b.x[:, :1, :1, :1].expand_as(b.x))


def test_source_extremes_map_to_minus_one_and_one():
    x = np.stack([np.zeros((1, 2, 2), np.uint8), np.full((1, 2, 2), 255, np.uint8)])
    b = ImageSource(ImageDataset("e", x)).batch(200, torch.Generator().manual_seed(0))
    assert set(b.x.unique().tolist()) == {-1.0, 1.0} and b.y is None
    f = np.stack([np.zeros((1, 2, 2), np.float32), np.ones((1, 2, 2), np.float32)])
    b = ImageSource(ImageDataset("f", f)).batch(200, torch.Generator().manual_seed(0))
    assert set(b.x.unique().tolist()) == {-1.0, 1.0}


def test_source_same_generator_state_same_batch_and_n_larger_than_dataset():
    src = ImageSource(labelled(n=3, classes=3))
    g = torch.Generator().manual_seed(123)
    src.batch(7, g)
    state = g.get_state()
    first = src.batch(50, g)
    g2 = torch.Generator()
    g2.set_state(state)
    again = src.batch(50, g2)
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y)
    assert len(first) == 50 and set(first.y.tolist()) == {0, 1, 2}  # with replacement
    # the same indices torch.randint draws
    g3 = torch.Generator()
    g3.set_state(state)
    assert torch.equal(first.y, torch.randint(3, (50,), generator=g3) % 3)


def _numbered(n: int) -> ImageSource:
    """Image i has every pixel equal to i (uint8), so a batch's pixel names the image drawn."""
    images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 1, 2, 2))
    return ImageSource(ImageDataset("ids", images.copy()))


def _ids(batch: Batch) -> list[int]:
    return torch.round((batch.x[:, 0, 0, 0] + 1) * 127.5).long().tolist()


@pytest.mark.parametrize("n", [1, 4, 10, 25])
def test_source_without_replacement_lays_whole_permutations_end_to_end(n):
    src, g = _numbered(10), torch.Generator().manual_seed(5)
    ids = _ids(src.batch(n, g, replacement=False))
    assert len(ids) == n
    for start in range(0, n, 10):  # each block of len(src) draws is a permutation's prefix
        block = ids[start : start + 10]
        assert len(set(block)) == len(block)
    counts = np.bincount(ids, minlength=10)
    assert counts.max() - counts.min() <= 1  # every image n // 10 or n // 10 + 1 times


def test_source_without_replacement_is_random_and_replays_from_the_generator_state():
    src = _numbered(10)
    g = torch.Generator().manual_seed(0)
    first, second = (_ids(src.batch(10, g, replacement=False)) for _ in range(2))
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    again = torch.Generator().manual_seed(0)
    assert _ids(src.batch(10, again, replacement=False)) == first
    # the indices torch.randperm draws from that stream
    assert first == torch.randperm(10, generator=torch.Generator().manual_seed(0)).tolist()


def test_source_keeps_uint8_in_memory_and_rejects_n_zero():
    src = ImageSource(labelled())
    assert src._images.dtype == torch.uint8
    with pytest.raises(GankitError):
        src.batch(0)


def test_conform_luma_matches_pillow_and_repeat():
    rgb = np.random.default_rng(0).integers(0, 256, (2, 3, 5, 6), dtype=np.uint8)
    d = ImageDataset("c", rgb)
    grey = conform(d, channels=1)
    for i in range(2):
        pil = np.asarray(Image.fromarray(rgb[i].transpose(1, 2, 0)).convert("L"))
        assert np.array_equal(grey.images[i, 0], pil)
    back = conform(grey, channels=3)
    assert back.shape == (3, 5, 6)
    assert all(np.array_equal(back.images[:, c], grey.images[:, 0]) for c in range(3))
    assert conform(d) is d and conform(d, channels=3) is d


@pytest.mark.parametrize("flt", ["nearest", "bilinear", "bicubic", "lanczos", "box"])
def test_conform_resize_matches_pillow(flt):
    rgb = np.random.default_rng(1).integers(0, 256, (2, 3, 7, 5), dtype=np.uint8)
    out = conform(ImageDataset("c", rgb, np.array([1, 0])), image_size=4, resize_filter=flt)
    assert out.shape == (3, 4, 4) and list(out.labels) == [1, 0]
    rs = getattr(Image.Resampling, flt.upper())
    pil = Image.fromarray(rgb[1].transpose(1, 2, 0)).resize((4, 4), resample=rs)
    assert np.array_equal(out.images[1], np.asarray(pil).transpose(2, 0, 1))
    f = conform(ImageDataset("f", rgb / 255.0), image_size=9, resize_filter=flt)
    assert f.images.dtype == np.float32 and 0 <= f.images.min() and f.images.max() <= 1


def test_conform_bad_options():
    d = labelled()
    for kwargs, key in [
        ({"resize_filter": "cubic"}, "nearest, bilinear, bicubic, lanczos, box"),
        ({"channels": 2}, "data.channels"),
        ({"image_size": 0}, "data.image_size"),
    ]:
        with pytest.raises(GankitError) as e:
            conform(d, **kwargs)
        one_line_error(e, key)
