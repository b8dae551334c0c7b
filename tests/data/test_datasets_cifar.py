"""CIFAR-10 python and binary batches, and the restricted unpickler that reads the python ones."""

from __future__ import annotations

import builtins
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from dataset_errors import one_line_error

from gankit.data.datasets import (
    CIFAR10_CLASSES,
    cifar10_class_names,
    load_cifar10_split,
    read_binary_batch,
    read_python_batch,
    restricted_loads,
)
from gankit.errors import GankitError


def batch_arrays(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()


def batch_dict(data, labels) -> dict:
    names = [f"img_{i}.png".encode() for i in range(len(labels))]
    return {b"batch_label": b"a batch", b"labels": labels, b"data": data, b"filenames": names}


def _s(b: bytes) -> bytes:  # a Python-2 str: SHORT_BINSTRING / BINSTRING
    return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b


def _i(v: int) -> bytes:  # BININT1 / BININT2 / BININT
    if v < 256:
        return b"K" + bytes([v])
    return b"M" + struct.pack("<H", v) if v < 65536 else b"J" + struct.pack("<i", v)


def py2_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """The bytes Python 2's cPickle (protocol 2) writes for a CIFAR-10 batch: str, not bytes,
    and numpy arrays through numpy.core.multiarray._reconstruct."""
    n = data.shape[0]
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
        + _s(b"b")
        + b"\x87R(K\x01"
        + _i(n)
        + _i(3072)
        + b"\x86cnumpy\ndtype\n"
        + _s(b"u1")
        + b"K\x00K\x01\x87R(K\x03"
        + _s(b"|")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
        + _s(data.tobytes())
        + b"tb"
    )
    return (
        b"\x80\x02}("
        + _s(b"batch_label")
        + _s(b"training batch 1 of 5")
        + _s(b"labels")
        + b"]("
        + b"".join(_i(v) for v in labels)
        + b"e"
        + _s(b"data")
        + array
        + _s(b"filenames")
        + b"]("
        + b"".join(_s(f"f{i}.png".encode()) for i in range(n))
        + b"eu."
    )


def write_py_folder(folder: Path, sizes=(2, 3, 1, 2, 2), test=3, meta=None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, n in enumerate(sizes, start=1):
        out[f"data_batch_{i}"] = batch_arrays(n, i)
        (folder / f"data_batch_{i}").write_bytes(py2_pickle(*out[f"data_batch_{i}"]))
    out["test_batch"] = batch_arrays(test, 99)
    (folder / "test_batch").write_bytes(pickle.dumps(batch_dict(*out["test_batch"]), protocol=2))
    if meta is not None:
        (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return out


def write_bin_folder(folder: Path, sizes=(1, 2, 1, 1, 3), test=2, meta=None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name, n in zip(names, list(sizes) + [test]):
        data, labels = out[name] = batch_arrays(n, len(out))
        records = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
        (folder / f"{name}.bin").write_bytes(records.tobytes())
    if meta is not None:
        (folder / "batches.meta.txt").write_text(meta)
    return out


def expected(out: dict, names) -> tuple[np.ndarray, np.ndarray]:
    data = np.concatenate([out[n][0] for n in names]).reshape(-1, 3, 32, 32)
    return data, np.concatenate([out[n][1] for n in names]).astype(np.int64)


TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_restricted_loads_reads_numpy_pickles(protocol):
    data, labels = batch_arrays(4, 0)
    obj = restricted_loads(pickle.dumps(batch_dict(data, labels), protocol=protocol), "mem")
    assert np.array_equal(obj[b"data"], data) and obj[b"labels"] == labels


def test_restricted_loads_reads_python2_pickle():
    data, labels = batch_arrays(3, 1)
    obj = restricted_loads(py2_pickle(data, labels), "mem")
    assert obj[b"batch_label"] == b"training batch 1 of 5"
    assert np.array_equal(obj[b"data"], data) and obj[b"labels"] == labels


class _Reduce:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


@pytest.mark.parametrize("fn", [os.system, builtins.eval])
def test_malicious_pickles_are_refused_and_never_run(tmp_path, fn):
    marker = tmp_path / "pwned"
    arg = f"touch {marker}" if fn is os.system else f"open({str(marker)!r}, 'w').close()"
    payload = _Reduce(fn, arg)
    for obj in (payload, {b"data": payload, b"labels": []}):
        with pytest.raises(GankitError, match="refuses to load") as e:
            restricted_loads(pickle.dumps(obj, protocol=2), "/d/data_batch_1")
        msg = one_line_error(e, "/d/data_batch_1", fn.__name__)
        assert ("builtins.eval" in msg) if fn is builtins.eval else ("system" in msg)
        path = tmp_path / "data_batch_1"
        path.write_bytes(pickle.dumps(obj, protocol=2))
        with pytest.raises(GankitError, match="refuses to load") as e:
            read_python_batch(path)
        one_line_error(e, path)
    assert not marker.exists()


def test_other_globals_and_codecs_are_refused():
    evil = pickle.dumps({b"x": {1, 2}}, protocol=2)  # a set needs builtins.set
    with pytest.raises(GankitError, match="builtins.set") as e:
        restricted_loads(evil, "f")
    one_line_error(e, "f")
    codec = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x0a\x00\x00\x00zlib_codec\x86R."
    with pytest.raises(GankitError) as e:
        restricted_loads(codec, "g")
    one_line_error(e, "g")


def test_garbage_is_not_a_pickle():
    with pytest.raises(GankitError, match="not a valid pickle") as e:
        restricted_loads(b"\x80\x02}(U\x04data", "/x/test_batch")
    one_line_error(e, "/x/test_batch")


@pytest.mark.parametrize(
    "obj, match",
    [
        ([1, 2], "holds a list"),
        ({b"labels": [1]}, "'data'"),
        ({b"data": np.zeros((1, 3072)), b"labels": [1]}, "uint8"),
        ({b"data": np.zeros((1, 3071), np.uint8), b"labels": [1]}, "3072"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "1 labels for 2 images"),
        ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, "out of range"),
        ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [b"a"]}, "list of ints"),
        ({b"data": np.zeros((1, 3072), np.uint8)}, "list of ints"),
    ],
)
def test_python_batch_structure_is_checked(tmp_path, obj, match):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(GankitError, match=match) as e:
        read_python_batch(path)
    one_line_error(e, path)


def test_str_keys_are_accepted(tmp_path):
    path = tmp_path / "test_batch"
    data, labels = batch_arrays(2, 3)
    path.write_bytes(pickle.dumps({"data": data, "labels": labels}))
    x, y = read_python_batch(path)
    assert np.array_equal(x, data.reshape(-1, 3, 32, 32)) and list(y) == labels


@pytest.mark.parametrize("nested", [False, True])
def test_python_folder_round_trip(tmp_path, nested):
    folder = tmp_path / "cifar-10-batches-py" if nested else tmp_path
    out = write_py_folder(folder)
    x, y = load_cifar10_split(tmp_path, "train")
    ex, ey = expected(out, TRAIN)
    assert x.shape == (10, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.array_equal(x, ex) and np.array_equal(y, ey)
    # the first 1024 bytes of a row are the red plane, row-major
    assert np.array_equal(x[0, 0].reshape(-1), out["data_batch_1"][0][0, :1024])
    x, y = load_cifar10_split(tmp_path, "test")
    ex, ey = expected(out, ["test_batch"])
    assert np.array_equal(x, ex) and np.array_equal(y, ey)
    assert cifar10_class_names(tmp_path) == CIFAR10_CLASSES


@pytest.mark.parametrize("nested", [False, True])
def test_binary_folder_round_trip(tmp_path, nested):
    folder = tmp_path / "cifar-10-batches-bin" if nested else tmp_path
    out = write_bin_folder(folder, meta="\n".join(f"c{i}" for i in range(10)) + "\n\n")
    x, y = load_cifar10_split(tmp_path, "train")
    ex, ey = expected(out, TRAIN)
    assert x.shape == (8, 3, 32, 32) and np.array_equal(x, ex) and np.array_equal(y, ey)
    x, y = load_cifar10_split(folder, "test")
    ex, ey = expected(out, ["test_batch"])
    assert np.array_equal(x, ex) and np.array_equal(y, ey)
    assert cifar10_class_names(tmp_path) == tuple(f"c{i}" for i in range(10))


def test_class_names_from_batches_meta(tmp_path):
    names = [f"n{i}".encode() for i in range(10)]
    write_py_folder(tmp_path, meta={b"label_names": names, b"num_vis": 3072})
    assert cifar10_class_names(tmp_path) == tuple(f"n{i}" for i in range(10))
    (tmp_path / "batches.meta").write_bytes(pickle.dumps({b"label_names": names[:9]}))
    with pytest.raises(GankitError, match="10 class names") as e:
        cifar10_class_names(tmp_path)
    one_line_error(e, tmp_path / "batches.meta")
    (tmp_path / "batches.meta").write_bytes(pickle.dumps({b"names": names}))
    with pytest.raises(GankitError, match="label_names") as e:
        cifar10_class_names(tmp_path)
    one_line_error(e, tmp_path / "batches.meta")


def test_binary_meta_with_wrong_count(tmp_path):
    write_bin_folder(tmp_path, meta="a\nb\n")
    with pytest.raises(GankitError, match="10 class names") as e:
        cifar10_class_names(tmp_path)
    one_line_error(e, tmp_path / "batches.meta.txt")


def test_binary_truncated_empty_and_bad_labels(tmp_path):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(b"\x01" * (3073 * 2 - 7))
    with pytest.raises(GankitError, match="truncated") as e:
        read_binary_batch(path)
    one_line_error(e, path, "6139")
    path.write_bytes(b"")
    with pytest.raises(GankitError, match="empty") as e:
        read_binary_batch(path)
    one_line_error(e, path)
    path.write_bytes(b"\x03" + b"\x00" * 3072 + b"\x0a" + b"\x00" * 3072)
    with pytest.raises(GankitError, match="label 10 of image 1") as e:
        read_binary_batch(path)
    one_line_error(e, path)


def test_missing_batch_and_no_batches(tmp_path):
    write_py_folder(tmp_path)
    (tmp_path / "data_batch_4").unlink()
    with pytest.raises(GankitError) as e:
        load_cifar10_split(tmp_path, "train")
    one_line_error(e, tmp_path / "data_batch_4")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GankitError) as e:
        load_cifar10_split(empty, "test")
    one_line_error(e, empty, "data_batch_1", "test_batch.bin", "cifar-10-batches-py")
    with pytest.raises(GankitError) as e:
        load_cifar10_split(tmp_path / "absent", "test")
    one_line_error(e, tmp_path / "absent")
