"""Image datasets from .npy / .npz files, read with allow_pickle=False."""

from __future__ import annotations

import numpy as np
import pytest
from dataset_errors import one_line_error

from gankit.data.datasets import load_array_dataset
from gankit.errors import GankitError


def images(n=4, c=3, dtype=np.uint8):
    x = np.random.default_rng(0).integers(0, 256, (n, c, 5, 6), dtype=np.uint8)
    return x if dtype == np.uint8 else (x / 255.0).astype(dtype)


def test_npy_round_trip(tmp_path):
    x = images()
    np.save(tmp_path / "x.npy", x)
    d = load_array_dataset(tmp_path / "x.npy")
    assert np.array_equal(d.images, x) and d.labels is None and d.source.endswith("x.npy")
    f = images(dtype=np.float64)
    np.save(tmp_path / "f.npy", f)
    d = load_array_dataset(tmp_path / "f.npy")
    assert d.images.dtype == np.float32 and np.array_equal(d.images, f.astype(np.float32))


def test_three_dims_are_one_channel(tmp_path):
    x = images(c=1)[:, 0]
    np.save(tmp_path / "g.npy", x)
    d = load_array_dataset(tmp_path / "g.npy")
    assert d.shape == (1, 5, 6) and np.array_equal(d.images[:, 0], x)


@pytest.mark.parametrize("ikey, lkey", [("images", "labels"), ("x", "y"), ("samples", None)])
def test_npz_keys_and_labels(tmp_path, ikey, lkey):
    x, y = images(), np.array([2, 0, 1, 2])
    arrays = {ikey: x, **({lkey: y} if lkey else {}), "other": np.zeros(3)}
    np.savez_compressed(tmp_path / "d.npz", **arrays)
    d = load_array_dataset(tmp_path / "d.npz")
    assert np.array_equal(d.images, x)
    if lkey:
        assert list(d.labels) == [2, 0, 1, 2] and d.classes == ("0", "1", "2")
    else:
        assert d.labels is None


def test_npz_positional_array(tmp_path):
    np.savez(tmp_path / "p.npz", images())
    assert len(load_array_dataset(tmp_path / "p.npz")) == 4


def test_object_arrays_are_refused(tmp_path):
    obj = np.array([np.zeros(2), "x"], dtype=object)
    np.savez(tmp_path / "o.npz", images=obj)
    with pytest.raises(GankitError, match="object array") as e:
        load_array_dataset(tmp_path / "o.npz")
    one_line_error(e, tmp_path / "o.npz", "'images'")
    np.savez(tmp_path / "l.npz", images=images(), labels=np.array([1, None, 2, 3], dtype=object))
    with pytest.raises(GankitError, match="object array") as e:
        load_array_dataset(tmp_path / "l.npz")
    one_line_error(e, tmp_path / "l.npz", "'labels'")
    np.save(tmp_path / "o.npy", obj, allow_pickle=True)
    with pytest.raises(GankitError, match="object array") as e:
        load_array_dataset(tmp_path / "o.npy")
    one_line_error(e, tmp_path / "o.npy")


def test_truncated_and_corrupt_files(tmp_path):
    np.save(tmp_path / "t.npy", images())
    data = (tmp_path / "t.npy").read_bytes()
    for cut in (len(data) - 10, 60, 3):
        (tmp_path / "t.npy").write_bytes(data[:cut])
        with pytest.raises(GankitError) as e:
            load_array_dataset(tmp_path / "t.npy")
        one_line_error(e, tmp_path / "t.npy")
    np.savez_compressed(tmp_path / "t.npz", images=images())
    data = (tmp_path / "t.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(GankitError) as e:
        load_array_dataset(tmp_path / "t.npz")
    one_line_error(e, tmp_path / "t.npz")
    corrupt = bytearray(data)
    corrupt[len(data) // 3] ^= 0xFF  # inside the compressed member: bad CRC or bad deflate
    (tmp_path / "t.npz").write_bytes(bytes(corrupt))
    with pytest.raises(GankitError) as e:
        load_array_dataset(tmp_path / "t.npz")
    one_line_error(e, tmp_path / "t.npz")
    (tmp_path / "junk.npz").write_bytes(b"hello, world")
    with pytest.raises(GankitError) as e:
        load_array_dataset(tmp_path / "junk.npz")
    one_line_error(e, tmp_path / "junk.npz")


def test_bad_contents(tmp_path):
    cases = {
        "missing.npy": None,
        "wrong.txt": b"x",
        "keys.npz": {"pixels": images()},
        "range.npy": images(dtype=np.float32) * 2,
        "ints.npy": images().astype(np.int64),
        "rank.npy": np.zeros((2, 3, 4, 5, 6), np.uint8),
        "count.npz": {"images": images(), "labels": np.array([0, 1])},
        "neg.npz": {"images": images(), "labels": np.array([0, 1, -1, 0])},
        "flt.npz": {"images": images(), "labels": np.array([0.0, 1.0, 1.0, 0.0])},
    }
    for name, content in cases.items():
        path = tmp_path / name
        if isinstance(content, dict):
            np.savez(path, **content)
        elif isinstance(content, np.ndarray):
            np.save(path, content)
        elif content is not None:
            path.write_bytes(content)
        with pytest.raises(GankitError) as e:
            load_array_dataset(path)
        one_line_error(e, path)
