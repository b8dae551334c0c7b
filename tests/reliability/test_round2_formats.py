"""Issue 21, class 5: input formats read rightly or refused in one line. 16-bit PNGs are scaled,
not clipped (a picture at 8 and at 16 bits loads the same); ``uint16`` arrays are scaled by
65535, complex and other non-pixel arrays are refused naming their dtype; a run's JSON file
nested 100,000 deep (``final_metrics.json``, ``diagnosis.json``) is refused in one line, never
a RecursionError."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reliability_kit import cli, error_lines, tree_state

from gankit import runs
from gankit.data.datasets.arrays import load_array_dataset
from gankit.data.datasets.folder import load_image_folder
from gankit.errors import GankitError
from gankit.report.readers import MAX_JSON_DEPTH, json_depth, read_json_object, read_run


def _png16(path: Path, pixels: np.ndarray) -> Path:
    """A 16-bit PNG (grey for ``(H, W)``, RGB for ``(H, W, 3)``) written byte by byte: Pillow
    cannot write 16-bit colour."""
    h, w = pixels.shape[:2]
    colour = 0 if pixels.ndim == 2 else 2
    rows = pixels.reshape(h, -1).astype(">u2")
    raw = b"".join(b"\0" + rows[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    head = struct.pack(">IIBBBBB", w, h, 16, colour, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def _pictures(seed: int, n: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _folders(tmp_path: Path, pictures: np.ndarray) -> tuple[Path, Path]:
    eight, sixteen = tmp_path / "eight", tmp_path / "sixteen"
    eight.mkdir()
    sixteen.mkdir()
    for i, p in enumerate(pictures):
        Image.fromarray(p).save(eight / f"{i:03d}.png")
        _png16(sixteen / f"{i:03d}.png", p.astype(np.uint16) * 257)
    return eight, sixteen


@pytest.mark.parametrize("shape", [(8, 8), (6, 5, 3)], ids=["grey", "rgb"])
@pytest.mark.parametrize("size", [None, 4], ids=["as-stored", "resized"])
def test_a_picture_at_8_and_16_bits_loads_the_same(shape, size, tmp_path):
    eight, sixteen = _folders(tmp_path, _pictures(0, 5, shape))
    a = load_image_folder(eight, image_size=size).as_float01()
    b = load_image_folder(sixteen, image_size=size).as_float01()
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= 1.0 / 255.0 + 1e-7


def test_16_bit_values_are_scaled_not_clipped(tmp_path):
    folder = tmp_path / "ramp"
    folder.mkdir()
    ramp = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
    _png16(folder / "ramp.png", ramp)
    x = load_image_folder(folder).as_float01()[0, 0]
    np.testing.assert_allclose(x, ramp / 65535.0, atol=0.5 / 255 + 1e-6)
    assert len(np.unique(x)) > 32  # clipping would leave 0 and 1 (and a few in between)


def test_fid_of_a_picture_at_8_and_16_bits_is_zero(tmp_path):
    eight, sixteen = _folders(tmp_path, _pictures(1, 80, (8, 8)))
    code, out, err = cli("fid", eight, sixteen, "--features", "digits", "--no-cache", "--json")
    assert code == 0, err
    assert abs(json.loads(out)["fid"]) < 1e-3, out


# ----------------------------------------------------------------------------- arrays


def test_uint16_arrays_are_scaled_by_65535(tmp_path):
    pictures = _pictures(2, 4, (1, 8, 8))
    np.save(tmp_path / "a8.npy", pictures)
    np.save(tmp_path / "a16.npy", pictures.astype(np.uint16) * 257)
    np.savez(tmp_path / "a16.npz", images=pictures.astype(np.uint16) * 257, labels=[0, 1, 1, 0])
    a = load_array_dataset(tmp_path / "a8.npy").as_float01()
    b = load_array_dataset(tmp_path / "a16.npy").as_float01()
    c = load_array_dataset(tmp_path / "a16.npz")
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a, c.as_float01(), atol=1e-6)
    assert c.labels.tolist() == [0, 1, 1, 0]


def test_float64_and_long_double_arrays_in_range_load(tmp_path):
    pictures = _pictures(3, 3, (1, 4, 4)) / 255.0
    for dtype in (np.float64, np.longdouble, np.float16):
        np.save(tmp_path / "f.npy", pictures.astype(dtype))
        got = load_array_dataset(tmp_path / "f.npy").as_float01()
        np.testing.assert_allclose(got, pictures, atol=1e-3)


ODD_ARRAYS = {
    "complex": (np.ones((2, 1, 4, 4), np.complex64), "complex numbers"),
    "complex128": (np.zeros((2, 1, 4, 4), np.complex128), "complex numbers"),
    "bool": (np.ones((2, 1, 4, 4), bool), "booleans"),
    "int64": (np.full((2, 1, 4, 4), 7, np.int64), "signed integers"),
    "uint32": (np.full((2, 1, 4, 4), 7, np.uint32), "unsigned integers wider than 16 bits"),
    "uint64": (np.full((2, 1, 4, 4), 2**63, np.uint64), "unsigned integers wider than 16 bits"),
    "text": (np.full((2, 1, 4, 4), "x"), "text"),
    "records": (np.zeros((2, 1, 4, 4), dtype=[("a", "u1"), ("b", "u1")]), "records"),
    "dates": (np.zeros((2, 1, 4, 4), dtype="datetime64[s]"), "dates"),
}


@pytest.mark.parametrize("name", sorted(ODD_ARRAYS))
def test_arrays_that_are_not_pixels_are_refused_in_one_line(name, tmp_path):
    array, what = ODD_ARRAYS[name]
    path = tmp_path / f"{name}.npy"
    np.save(path, array, allow_pickle=False)
    with pytest.raises(GankitError) as exc:
        load_array_dataset(path)
    message = str(exc.value)
    assert "\n" not in message and str(path) in message and what in message, message
    assert str(array.dtype) in message


@pytest.mark.parametrize("name", ["complex", "uint32", "bool"])
def test_fid_of_an_odd_array_is_exit_2_one_line(name, tmp_path):
    array, what = ODD_ARRAYS[name]
    path = tmp_path / f"{name}.npy"
    np.save(path, array)
    before = tree_state(tmp_path)
    code, _, err = cli("fid", "digits", path, "--no-cache")
    lines = error_lines(err)
    assert code == 2 and len(lines) == 1 and what in lines[0] and "Traceback" not in err, err
    assert tree_state(tmp_path) == before


# ----------------------------------------------------------------------------- JSON depth

DEEP = "[" * 100_000 + "]" * 100_000


def test_json_depth_skips_brackets_in_strings():
    assert json_depth('{"a": "[[[{{{", "b": [1, {"c": "\\"]"}]}') == 3
    assert json_depth(DEEP) == 100_000 and json_depth("{}") == 1 and json_depth("3") == 0


@pytest.mark.parametrize(
    "text, why",
    [
        (DEEP, "nested deeper than"),
        ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than"),
        ('{"a": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}", "deeper"),
        ('{"a": ' + "9" * 5000 + "}", "not readable JSON"),
        ('{"a": "\\ud800"', "not readable JSON"),
        ("\xff\xfe", "not readable JSON"),
        ("[1, 2]", "expected a JSON object"),
    ],
    ids=["deep-list", "deep-value", "just-too-deep", "long-number", "torn", "binary", "list"],
)
def test_a_run_json_file_that_is_no_object_is_refused_in_one_line(text, why, tmp_path):
    path = tmp_path / "final_metrics.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\xfe" else b"\xff")
    with pytest.raises(GankitError) as exc:
        read_json_object(path)
    assert why in str(exc.value) and "\n" not in str(exc.value) and str(path) in str(exc.value)


@pytest.fixture
def deep_runs(straight_toy, tmp_path):
    """Copies of the finished toy run: final metrics and diagnosis nested 100,000 deep."""
    final = Path(shutil.copytree(straight_toy, tmp_path / "final"))
    (final / runs.FINAL).write_text(DEEP)
    diagnosis = Path(shutil.copytree(straight_toy, tmp_path / "diagnosis"))
    (diagnosis / runs.DIAGNOSIS).write_text('{"failures": ' + DEEP + "}")
    return tmp_path, final, diagnosis


@pytest.mark.parametrize(
    "args",
    [("compare", "{final}"), ("compare", "{final}", "{diagnosis}"), ("report", "{final}")],
    ids=["compare", "compare-two", "report"],
)
def test_report_and_compare_refuse_deep_final_metrics_in_one_line(args, deep_runs):
    root, final, diagnosis = deep_runs
    before = tree_state(root)
    code, _, err = cli(*[a.format(final=final, diagnosis=diagnosis) for a in args])
    lines = error_lines(err)
    assert code == 2 and len(lines) == 1, err
    assert "final_metrics.json" in lines[0] and "nested deeper" in lines[0], err
    assert "Traceback" not in err and "RecursionError" not in err
    assert tree_state(root) == before


def test_a_deep_diagnosis_is_reported_as_unreadable(deep_runs):
    _, _, diagnosis = deep_runs
    files = read_run(diagnosis)
    assert files.diagnosis is None and "nested deeper" in files.diagnosis_error
