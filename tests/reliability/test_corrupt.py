"""Corrupt or truncated files in a run directory: loading and resuming fall back to the newest
intact checkpoint with a one-line warning naming the bad file, or refuse in one line when none
is intact; a damaged metrics log is read for its whole rows only; never a traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from reliability_kit import TOY, assert_same_final_state, cli, rows_of, tree_state

from gankit import api, runs
from gankit import config as config_mod
from gankit.errors import GankitError


def _damage(path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 3]))
    elif how == "flip":  # in the tensors' bytes: only the sha256 can tell
        data[-64] ^= 0x01
        path.write_bytes(bytes(data))
    elif how == "zero":
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["truncate", "flip", "zero"])
def test_sample_falls_back_to_the_newest_intact_checkpoint(toy_copy, tmp_path, how):
    newest = runs.latest_checkpoint(toy_copy)
    assert newest.name == "step-30.safetensors"
    _damage(newest, how)
    before = tree_state(toy_copy)
    code, out, err = cli("sample", toy_copy, "-n", "50", "--out", tmp_path / "s.npy")
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gankit: warning: {newest}:"), err
    assert lines[0].endswith("skipped for step-25.safetensors")
    assert tree_state(toy_copy) == before  # reading never repairs, moves or deletes
    assert np.load(tmp_path / "s.npy").shape == (50, 1)


def test_none_intact_is_one_line_naming_each(toy_copy, tmp_path):
    for path in runs.checkpoint_files(toy_copy):
        _damage(path, "truncate")
    for command in (
        ["sample", toy_copy, "-n", "5", "--out", tmp_path / "s.npy"],
        ["evaluate", toy_copy],
        ["train", "--out", toy_copy, "--resume"],
    ):
        before = tree_state(toy_copy)
        code, _, err = cli(*command)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert lines[0].startswith(f"gankit: error: {toy_copy}: no intact checkpoint (")
        for name in ("step-30", "step-25", "step-20"):
            assert name in lines[0]
        assert tree_state(toy_copy) == before
    assert not (tmp_path / "s.npy").exists()


def test_resume_past_a_damaged_checkpoint_ends_as_the_straight_run(tmp_path, straight_toy):
    """A run stopped at step 20 whose newest checkpoint got damaged resumes from step 15 (the
    damaged one set aside as .damaged) and ends bit-identical to the uninterrupted run."""

    torch.set_num_threads(1)
    run = api.train(
        config_mod.resolve(overrides=TOY), tmp_path / "run", progress=False, stop_after=20
    )
    _damage(run / runs.CHECKPOINTS / "step-20.safetensors", "flip")
    code, _, err = cli("train", "--out", run, "--resume", "--quiet")
    assert code == 0, err
    assert "step-20.safetensors: damaged checkpoint" in err and "skipped for step-15" in err
    assert (run / runs.CHECKPOINTS / "step-20.safetensors.damaged").is_file()
    assert_same_final_state(straight_toy, run)


def test_verification_names_what_is_wrong(toy_copy):
    path = runs.latest_checkpoint(toy_copy)
    _damage(path, "flip")
    with pytest.raises(GankitError, match=r"damaged checkpoint \(its tensors do not match"):
        runs.load_checkpoint(path)
    _damage(path, "truncate")
    with pytest.raises(GankitError, match="not a readable gankit checkpoint"):
        runs.load_checkpoint(path)


def test_a_damaged_metrics_log_is_read_for_its_whole_rows(toy_copy, tmp_path):
    """Binary garbage, a torn line, JSON that is no row (a list, a string step, deep nesting),
    NaN: only whole rows are read; the report and the comparison are written all the same."""
    rows = rows_of(toy_copy)
    metrics = toy_copy / runs.METRICS
    with open(metrics, "ab") as fh:
        fh.write(b'\xff\xfe\x00garbage\n[1, 2, 3]\n"text"\n' + b"[" * 100_000 + b"\n")
        fh.write(b'{"step": "7", "d_loss": 1}\n{"step": 31, "d_loss": NaN}\n{"step": 32, "d_')
    read = [runs.without_wall_clock(r) for r in runs.read_metrics(toy_copy)]
    assert read[:-1] == rows and read[-1]["step"] == 31
    code, _, err = cli("report", toy_copy, "--no-tensorboard")
    assert code == 0 and err == "", err
    code, out, err = cli("compare", toy_copy, "--json")
    assert code == 0, err
    json.loads(out)
    # an evaluation appended after the torn line is a whole row of its own
    code, _, err = cli("evaluate", toy_copy, "-n", "200")
    assert code == 0, err
    assert runs.read_metrics(toy_copy)[-1]["event"] == "evaluate"


def test_debug_shows_the_traceback(toy_copy, tmp_path, monkeypatch):
    for path in runs.checkpoint_files(toy_copy):
        _damage(path, "zero")
    args = ["sample", toy_copy, "-n", "5", "--out", tmp_path / "s.npy"]
    code, _, err = cli(*args)
    assert code == 2 and "Traceback" not in err
    for argv in (["--debug", *args], [*args, "--debug"]):
        code, _, err = cli(*argv)
        assert code == 2 and "Traceback (most recent call last)" in err, err
        assert err.strip().splitlines()[-1].startswith("gankit: error:")
    monkeypatch.setenv("GANKIT_DEBUG", "1")
    code, _, err = cli(*args)
    assert code == 2 and "Traceback" in err


def test_an_unexpected_error_is_one_line_exit_1(monkeypatch):
    from gankit.commands import presets

    def boom(args):
        raise ZeroDivisionError("a bug\nover two lines")

    monkeypatch.setattr(presets, "run", boom)
    code, _, err = cli("presets")
    assert code == 1
    assert err.strip().splitlines() == [
        "gankit: internal error: ZeroDivisionError: a bug over two lines (a bug: rerun with "
        "gankit --debug for the traceback and report it)"
    ]
