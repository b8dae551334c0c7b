"""load_splits: every dataset by name, seeded splits, image_size / channels, and bad names."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from dataset_errors import one_line_error
from PIL import Image

from gankit.data.datasets import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    dataset_names,
    load_splits,
    register_dataset,
    split_seeded,
)
from gankit.data.datasets.dataset import ImageDataset
from gankit.errors import GankitError


def write_idx(path: Path, a: np.ndarray) -> None:
    head = bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    path.write_bytes(gzip.compress(head + a.astype(np.uint8).tobytes()))


def mnist_folder(folder: Path, n_train=6, n_test=3, max_label=9) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        labels = np.arange(n) % (max_label + 1)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


def test_names():
    names = dataset_names()
    for name in ("digits", "mnist", "fashion-mnist", "cifar10", "image-folder", "arrays"):
        assert name in names


def test_unknown_name_and_duplicate_registration():
    with pytest.raises(GankitError) as e:
        load_splits("imagenet", None)
    one_line_error(e, "'imagenet'", "data.name", "mnist", "cifar10", "image-folder")
    with pytest.raises(GankitError) as e:
        register_dataset("mnist", lambda path, opts: None)
    one_line_error(e, "'mnist'")


def test_digits():
    train, held = load_splits("digits", None)
    assert len(train) == 1500 and len(held) == 297
    assert load_splits("digits", "")[1].images.shape == (297, 1, 8, 8)
    with pytest.raises(GankitError) as e:
        load_splits("digits", "/some/where")
    one_line_error(e, "data.path", "leave data.path empty")
    big, _ = load_splits("digits", None, image_size=16, channels=3, resize_filter="nearest")
    assert big.images.shape == (1500, 3, 16, 16) and big.images.dtype == np.float32
    # nearest 8 -> 16 doubles each pixel
    assert np.array_equal(big.images[:, 0, ::2, ::2], train.images[:, 0])


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_mnist_like(tmp_path, name):
    folder = mnist_folder(tmp_path / "m")
    train, held = load_splits(name, str(folder))
    assert train.images.shape == (6, 1, 28, 28) and held.images.shape == (3, 1, 28, 28)
    assert list(held.labels) == [0, 1, 2]
    want = FASHION_MNIST_CLASSES if name == "fashion-mnist" else tuple("0123456789")
    assert train.classes == held.classes == want
    train32, _ = load_splits(name, str(folder), image_size=32)
    assert train32.images.shape == (6, 1, 32, 32) and list(train32.labels) == list(train.labels)
    with pytest.raises(GankitError) as e:
        load_splits(name, None)
    one_line_error(e, "data.path", name, "train-images-idx3-ubyte")


def test_mnist_labels_out_of_range(tmp_path):
    folder = mnist_folder(tmp_path, n_train=12, max_label=11)
    with pytest.raises(GankitError) as e:
        load_splits("mnist", str(folder))
    one_line_error(e, folder / "train-labels-idx1-ubyte.gz", "[0, 11]")


def test_cifar10(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, n in [(f"data_batch_{i}", 2) for i in range(1, 6)] + [("test_batch", 3)]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [9] * n}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    train, held = load_splits("cifar10", str(tmp_path))
    assert train.images.shape == (10, 3, 32, 32) and held.images.shape == (3, 3, 32, 32)
    assert train.classes == CIFAR10_CLASSES and list(held.labels) == [9, 9, 9]
    grey, _ = load_splits("cifar10", str(tmp_path), channels=1)
    want = np.asarray(Image.fromarray(train.images[0].transpose(1, 2, 0)).convert("L"))
    assert grey.images.shape == (10, 1, 32, 32) and np.array_equal(grey.images[0, 0], want)


def test_image_folder_split(tmp_path):
    for i in range(10):
        Image.fromarray(np.full((6, 4), i * 10, np.uint8)).save(tmp_path / f"{i:02d}.png")
    train, held = load_splits("image-folder", str(tmp_path), heldout_fraction=0.3, seed=5)
    assert len(train) == 7 and len(held) == 3
    values = sorted(int(v) for v in np.concatenate([train.images, held.images])[:, 0, 0, 0])
    assert values == [i * 10 for i in range(10)]
    again = load_splits("image-folder", str(tmp_path), heldout_fraction=0.3, seed=5)[1]
    assert np.array_equal(again.images, held.images)
    other = load_splits("image-folder", str(tmp_path), heldout_fraction=0.3, seed=6)[1]
    assert not np.array_equal(other.images, held.images)
    sq, _ = load_splits("image-folder", str(tmp_path), image_size=5, channels=3)
    assert sq.images.shape == (9, 3, 5, 5)


def test_arrays_split_and_minimum_sizes(tmp_path):
    x = np.arange(4 * 3 * 2 * 2, dtype=np.uint8).reshape(4, 3, 2, 2)
    np.savez(tmp_path / "a.npz", images=x, labels=np.array([0, 1, 0, 1]))
    train, held = load_splits("arrays", str(tmp_path / "a.npz"), heldout_fraction=0.01)
    assert len(train) == 3 and len(held) == 1  # at least one image each side
    train, held = load_splits("arrays", str(tmp_path / "a.npz"), heldout_fraction=0.99)
    assert len(train) == 1 and len(held) == 3
    np.save(tmp_path / "one.npy", x[:1])
    with pytest.raises(GankitError, match="at least 2") as e:
        load_splits("arrays", str(tmp_path / "one.npy"))
    one_line_error(e, tmp_path / "one.npy")
    with pytest.raises(GankitError) as e:
        load_splits("arrays", str(tmp_path / "a.npz"), heldout_fraction=1.0)
    one_line_error(e, "data.heldout_fraction")
    with pytest.raises(GankitError) as e:
        load_splits("arrays", "")
    one_line_error(e, "data.path", "arrays")


def test_split_seeded_keeps_labels_with_images():
    labels = np.arange(20) % 4
    images = (labels * 50).astype(np.uint8)[:, None, None, None].repeat(2, axis=2)
    d = ImageDataset("t", images, labels)
    tr, ho = split_seeded(d, 0.25, seed=0)
    assert len(tr) == 15 and len(ho) == 5
    for part in (tr, ho):
        assert np.array_equal(part.images[:, 0, 0, 0], (part.labels * 50).astype(np.uint8))


def test_bad_options_fail_before_reading(tmp_path):
    with pytest.raises(GankitError) as e:
        load_splits("mnist", str(tmp_path / "absent"), resize_filter="sinc")
    one_line_error(e, "'sinc'", "lanczos")
    with pytest.raises(GankitError) as e:
        load_splits("digits", None, channels=2)
    one_line_error(e, "data.channels")
