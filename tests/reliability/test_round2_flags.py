"""Issue 21, class 4, for command-line values that are not config keys: seeds, sample counts,
batch sizes and devices go through the config's one validator, and a bad one is exit 2, one
line naming the flag, no traceback, nothing written."""

from __future__ import annotations

import pytest
from reliability_kit import cli, tree_state

CASES = [
    # (arguments after the run or files, the flag named, what the line says)
    (["sample", "{run}", "-n", "0", "--out", "{tmp}/s.npy"], "-n", "out of range"),
    (["sample", "{run}", "-n", "1e3", "--out", "{tmp}/s.npy"], "-n", "expected an integer"),
    (["sample", "{run}", "-n", "99999999999", "--out", "{tmp}/s.npy"], "-n", "out of range"),
    (["sample", "{run}", "-n", "5", "--seed", "-1", "--out", "{tmp}/s.npy"], "--seed", "range"),
    (["sample", "{run}", "-n", "5", "--seed", "2**40", "--out", "{tmp}/s.npy"], "--seed", ""),
    (["sample", "{run}", "-n", "5", "--out", ""], "--out", "empty path"),
    (["evaluate", "{run}", "-n", "nan"], "-n", "expected an integer"),
    (["evaluate", "{run}", "-n", "1"], "-n", "out of range"),
    (["evaluate", "{run}", "--seed", "inf"], "--seed", "expected an integer"),
    (["train", "--seed", "-5", "--out", "{tmp}/new"], "--seed", "out of range"),
    (["fid", "{run}", "{run}", "--batch-size", "0"], "--batch-size", "out of range"),
    (["fid", "{run}", "{run}", "--batch-size", "many"], "--batch-size", "expected an integer"),
    (["fid", "{run}", "{run}", "--device", "tpu"], "--device", "is not a device"),
    (["features", "{run}", "--out", "{tmp}/f.npy", "--device", "cuda:x"], "--device", "device"),
]


@pytest.mark.parametrize(("args", "flag", "said"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_flag_value_is_one_line_naming_it(toy_copy, tmp_path, args, flag, said):
    args = [a.format(run=toy_copy, tmp=tmp_path) for a in args]
    before = tree_state(toy_copy, tmp_path)
    code, out, err = cli(*args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert flag in lines[0] and said in lines[0], lines[0]
    assert tree_state(toy_copy, tmp_path) == before


def test_an_output_never_overwrites_an_input_or_another_output(tmp_path):
    """`gankit features`: --out over its own input, --logits over --out (through a link too)
    are refused before anything is read or written."""
    import numpy as np

    images = tmp_path / "images.npy"
    np.save(images, np.zeros((70, 1, 8, 8), dtype=np.uint8))
    link = tmp_path / "alias.npy"
    link.symlink_to(images)
    cases = [
        (["features", images, "--out", images], "--out", "is the input A"),
        (["features", images, "--out", link], "--out", "is the input A"),
        (
            ["features", images, "--out", tmp_path / "f.npy", "--logits", tmp_path / "f.npy"],
            "--out",
            "the same file",
        ),
    ]
    for args, flag, said in cases:
        before = tree_state(tmp_path)
        code, _, err = cli(*args)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and flag in lines[0] and said in lines[0], err
        assert tree_state(tmp_path) == before
