"""IDX files (MNIST / Fashion-MNIST): round trips and every way a file can be bad."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from dataset_errors import one_line_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit.data.datasets import load_idx_split, read_idx
from gankit.data.datasets.idx import MAX_IDX_BYTES
from gankit.errors import GankitError

MNIST = Path("/work/shared/data/mnist")
CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C}
CODES.update({np.float32: 0x0D, np.float64: 0x0E})


def idx_bytes(a: np.ndarray) -> bytes:
    code = CODES[a.dtype.type]
    head = bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return head + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, a: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(a)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_split(folder: Path, split: str, images, labels, gz=False, dot=False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    sep = "." if dot else "-"
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images{sep}idx3-ubyte{suffix}", images, gz)
    write_idx(folder / f"{prefix}-labels{sep}idx1-ubyte{suffix}", labels, gz)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    dtype=st.sampled_from(list(CODES)),
    gz=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_idx_round_trip(tmp_path, shape, dtype, gz, seed):
    rng = np.random.default_rng(seed)
    a = (rng.random(shape) * 200 - (0 if dtype == np.uint8 else 100)).astype(dtype)
    back = read_idx(write_idx(tmp_path / "a.idx", a, gz))
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == a.shape and np.array_equal(back, a)
    assert back.flags.writeable


def test_gzip_detected_by_magic_not_suffix(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(read_idx(write_idx(tmp_path / "no-suffix", a, gz=True)), a)
    assert np.array_equal(read_idx(write_idx(tmp_path / "raw.gz", a, gz=False)), a)


def test_missing_file(tmp_path):
    with pytest.raises(GankitError) as e:
        read_idx(tmp_path / "nope")
    one_line_error(e, tmp_path / "nope")


@pytest.mark.parametrize(
    "head", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00", b"PK\x03\x04"]
)
def test_wrong_magic(tmp_path, head):
    p = tmp_path / "bad-idx"
    p.write_bytes(head + b"\x00" * 8)
    with pytest.raises(GankitError, match="not an IDX file") as e:
        read_idx(p)
    one_line_error(e, p)


def test_truncated_header_and_body(tmp_path):
    p = tmp_path / "short"
    p.write_bytes(b"\x00\x00")
    with pytest.raises(GankitError, match="truncated") as e:
        read_idx(p)
    one_line_error(e, p)
    p.write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x02")  # 3 dims promised, 1 given
    with pytest.raises(GankitError, match="truncated") as e:
        read_idx(p)
    one_line_error(e, p, "16", "8")
    data = idx_bytes(np.zeros((2, 3, 4), np.uint8))  # 16 + 24 bytes
    for gz in (False, True):
        p.write_bytes(gzip.compress(data[:-5]) if gz else data[:-5])
        with pytest.raises(GankitError, match="truncated") as e:
            read_idx(p)
        one_line_error(e, p, "40", "35", "(2, 3, 4)")


def test_trailing_bytes(tmp_path):
    data = idx_bytes(np.zeros((2, 3), np.uint8))
    p = tmp_path / "long"
    for gz in (False, True):
        p.write_bytes(gzip.compress(data + b"xyz") if gz else data + b"xyz")
        with pytest.raises(GankitError, match="trailing") as e:
            read_idx(p)
        one_line_error(e, p, "18", "21")


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(300, dtype=np.uint8).reshape(3, 10, 10)))
    p = tmp_path / "broken.gz"
    p.write_bytes(data[: len(data) // 2])  # stream cut short
    with pytest.raises(GankitError, match="gzip") as e:
        read_idx(p)
    one_line_error(e, p)
    flipped = bytearray(data)
    flipped[-6] ^= 0xFF  # a byte of the CRC / length trailer
    p.write_bytes(bytes(flipped))
    with pytest.raises(GankitError, match="gzip") as e:
        read_idx(p)
    one_line_error(e, p)
    p.write_bytes(data[:10] + b"\xff" * 40)  # garbage deflate data
    with pytest.raises(GankitError, match="gzip") as e:
        read_idx(p)
    one_line_error(e, p)


def test_absurd_dimensions_refused_before_allocating(tmp_path):
    p = tmp_path / "huge"
    p.write_bytes(b"\x00\x00\x0e\x03" + struct.pack(">3I", 2**20, 2**20, 2**10) + b"\x00" * 64)
    with pytest.raises(GankitError, match=str(MAX_IDX_BYTES)) as e:
        read_idx(p)
    one_line_error(e, p)


def test_lying_header_allocates_only_what_the_file_holds(tmp_path):
    p = tmp_path / "liar"
    p.write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 2**30) + b"\x00" * 10)
    tracemalloc.start()
    try:
        with pytest.raises(GankitError, match="truncated") as e:
            read_idx(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_line_error(e, p, str(2**30 + 8), "found 18")
    assert peak < 2**26


def test_split_round_trip_all_spellings(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 3, 4), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    for i, (gz, dot) in enumerate([(False, False), (True, False), (False, True), (True, True)]):
        folder = tmp_path / str(i)
        write_split(folder, "test", images, labels, gz=gz, dot=dot)
        x, y = load_idx_split(folder, "test")
        assert x.shape == (5, 1, 3, 4) and x.dtype == np.uint8
        assert np.array_equal(x[:, 0], images)
        assert y.dtype == np.int64 and list(y) == [3, 1, 4, 1, 5]


def test_split_label_count_mismatch_names_both_files(tmp_path):
    write_split(tmp_path, "train", np.zeros((4, 2, 2), np.uint8), np.zeros(3, np.uint8))
    with pytest.raises(GankitError) as e:
        load_idx_split(tmp_path, "train")
    one_line_error(e, "train-labels-idx1-ubyte", "train-images-idx3-ubyte", "3 labels", "4")


def test_split_wrong_ranks(tmp_path):
    write_split(tmp_path, "train", np.zeros((4, 4), np.uint8), np.zeros(4, np.uint8))
    with pytest.raises(GankitError, match="3-D") as e:
        load_idx_split(tmp_path, "train")
    one_line_error(e, tmp_path / "train-images-idx3-ubyte")
    write_split(tmp_path, "train", np.zeros((4, 2, 2), np.uint8), np.zeros((4, 1), np.uint8))
    with pytest.raises(GankitError, match="1-D") as e:
        load_idx_split(tmp_path, "train")
    one_line_error(e, tmp_path / "train-labels-idx1-ubyte")


def test_split_missing_folder_or_files(tmp_path):
    with pytest.raises(GankitError) as e:
        load_idx_split(tmp_path / "absent", "train")
    one_line_error(e, tmp_path / "absent")
    with pytest.raises(GankitError) as e:
        load_idx_split(tmp_path, "test")
    one_line_error(e, tmp_path, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    one_line_error(e, "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(GankitError) as e:
        load_idx_split(tmp_path, "test")
    msg = one_line_error(e, tmp_path, "t10k-labels-idx1-ubyte")
    assert "t10k-images" not in msg


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"real MNIST files not present in {MNIST}")
def test_real_mnist():
    x, y = load_idx_split(MNIST, "train")
    xt, yt = load_idx_split(MNIST, "test")
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == xt.dtype == np.uint8 and y.dtype == yt.dtype == np.int64
    assert y.shape == (60000,) and yt.shape == (10000,)
    assert set(np.unique(y)) == set(np.unique(yt)) == set(range(10))
    assert list(y[:5]) == [5, 0, 4, 1, 9]


def test_relative_paths_are_reported_in_full(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GankitError) as e:
        read_idx("missing-idx")
    one_line_error(e, tmp_path / "missing-idx")
    with pytest.raises(GankitError) as e:
        load_idx_split(".", "train")
    one_line_error(e, f"{tmp_path}: no train split")
