"""Random input never gives a traceback or a partial run directory (hypothesis): random ``--set``
overrides, random bytes as a config file, random bytes (and random damage to a real one) as a
checkpoint. `gankit.cli.main` runs in this process, its stderr captured; the examples are
bounded so that the file runs in seconds."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_kit import HYPOTHESIS_SETTINGS, cli

from gankit import config as config_mod
from gankit import runs

KEYS = [key for key, _, _ in config_mod.describe_keys()]
#: what a valid run is cut down to (appended after the random overrides, so they win)
BUDGET = [
    "--steps",
    "2",
    "--set",
    "log.every=1",
    "--set",
    "log.eval_every=2",
    "--set",
    "log.eval_samples=100",
    "--set",
    "log.final_samples=100",
    "--quiet",
]


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return str(value)


values = st.one_of(
    st.integers(-3, 300),
    st.sampled_from([0, 10**12, 2**63, -(2**31), 10**30]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.booleans(),
    st.sampled_from(["nan", "[1, 2]", "{ a = 1 }", "''", '"x"', "1e400", "[[[", "a\nb = 1"]),
    st.text(max_size=12),
).map(_literal)
keys = st.one_of(
    st.sampled_from(KEYS), st.text(alphabet="abcdefghijklmnopqrstuvwxyz._", max_size=16)
)
overrides = st.lists(st.tuples(keys, values).map(lambda kv: f"{kv[0]}={kv[1]}"), max_size=3)


def _check(code: int, err: str, out: Path | None = None) -> None:
    """No traceback, no internal error, at most one error line, and the run directory whole
    (finished) or absent (refused) or diagnosed (diverged)."""
    assert "Traceback" not in err and "internal error" not in err, err
    errors = [line for line in err.splitlines() if line and "gankit: warning:" not in line]
    assert len(errors) <= 1, err
    assert code in (0, 2, 3), (code, err)
    if out is None:
        return
    if code == 0:
        for name in (runs.CONFIG, runs.FINAL, runs.DIAGNOSIS, runs.REPORT):
            assert (out / name).is_file(), name
    elif code == 2:
        assert not out.exists(), err
    else:
        assert errors[0].startswith("gankit: diverged at step") and (out / runs.DIAGNOSIS).exists()
    assert not (out / runs.LOCK).exists()


@settings(max_examples=30, **HYPOTHESIS_SETTINGS)
@given(sets=overrides)
def test_random_overrides(sets):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        args = [a for s in sets for a in ("--set", s)]
        code, _, err = cli("train", *args, *BUDGET, "--out", out)
        _check(code, err, out)


@settings(max_examples=30, **HYPOTHESIS_SETTINGS)
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode)))
def test_random_bytes_as_a_config_file(data):
    with tempfile.TemporaryDirectory() as tmp:
        config, out = Path(tmp) / "c.toml", Path(tmp) / "run"
        config.write_bytes(data)
        code, _, err = cli("train", "--config", config, *BUDGET, "--out", out)
        _check(code, err, out)


damage = st.one_of(
    st.binary(max_size=400).map(lambda b: ("replace", b)),
    st.integers(0, 10**6).map(lambda i: ("truncate", i)),
    st.tuples(st.integers(0, 10**6), st.integers(1, 255)).map(lambda t: ("flip", t)),
)


@settings(max_examples=40, **HYPOTHESIS_SETTINGS)
@given(harm=damage, keep_older=st.booleans())
def test_random_damage_to_a_checkpoint(straight_toy, harm, keep_older):
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(shutil.copytree(straight_toy, Path(tmp) / "run"))
        newest = runs.latest_checkpoint(run)
        data = bytearray(newest.read_bytes())
        kind, arg = harm
        if kind == "replace":
            data = bytearray(arg)
        elif kind == "truncate":
            data = data[: arg % len(data)]
        else:
            position, mask = arg
            data[position % len(data)] ^= mask
        newest.write_bytes(bytes(data))
        if not keep_older:
            for older in runs.checkpoint_files(run)[1:]:
                older.unlink()
        code, _, err = cli("sample", run, "-n", "5", "--out", Path(tmp) / "s.npy")
        _check(code, err)
        assert code in (0, 2), err
        if code == 2:
            assert (Path(tmp) / "s.npy").exists() is False
            assert "no intact checkpoint" in err and newest.name in err, err
        elif "warning" in err:
            assert newest.name in err
