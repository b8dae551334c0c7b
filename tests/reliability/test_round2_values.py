"""Issue 21, class 4: every value a user can set is checked for type, finiteness and range by
one validator (`gankit.config.check_number`, `check_text`, `check_table`) and refused in one
line naming it -- the table-valued keys too (``data.params.*`` of every toy,
``game.penalties.*``); strings hold no control character and `gankit.config.dumps` writes every
string so that it reads back; and class 3: a checkpoint whose header (step, optimizer
settings) was changed is skipped like a damaged one, never used."""

from __future__ import annotations

import json
import math
import shutil
import struct
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_kit import HYPOTHESIS_SETTINGS, cli, error_lines, tree_state

from gankit import api, runs
from gankit import config as config_mod
from gankit.config import check_device, check_number, check_text, parse_number
from gankit.data.toy import make_toy, toy_names, toy_params
from gankit.errors import Diverged, GankitError
from gankit.game.penalties import PENALTIES, check_weight

#: a run cut down to one step of training and nothing else (no evaluation, no report)
TINY = [
    "train.steps=5",
    "train.checkpoint_every=5",
    "log.every=1",
    "log.eval_every=5",
    "log.eval_samples=50",
    "log.final_samples=50",
]


def _toy_presets() -> list[str]:
    return [
        name
        for name in config_mod.preset_names()
        if config_mod.preset_table(name).get("data", {}).get("name", "gaussian") in toy_names()
    ]


TOY_PRESETS = _toy_presets()


# ----------------------------------------------------------------------------- the CLI table

#: (preset, --set of a bad value, what the one line must name)
BAD_VALUES = {
    "penalty_nan": ("gaussian-1d", "game.penalties.r1=nan", "game.penalties.r1"),
    "penalty_inf": ("gaussian-1d", "game.penalties.gp=inf", "game.penalties.gp"),
    "penalty_negative": ("gaussian-1d", "game.penalties.r1=-0.5", "game.penalties.r1"),
    "penalty_huge": ("gaussian-1d", "game.penalties.r1=1e300", "game.penalties.r1"),
    "penalty_string": ("gaussian-1d", "game.penalties.r1='10'", "game.penalties.r1"),
    "penalty_list": ("gaussian-1d", "game.penalties.r1=[1.0]", "game.penalties.r1"),
    "penalty_bool": ("gaussian-1d", "game.penalties.r1=true", "game.penalties.r1"),
    "penalty_table": ("gaussian-1d", "game.penalties.r1.x=1", "game.penalties.r1"),
    "penalty_overflow": ("gaussian-1d", "game.penalties.r1=" + "9" * 400, "game.penalties.r1"),
    "params_std_zero": ("gaussian-1d", "data.params.std=0", "data.params.std"),
    "params_std_nan": ("gaussian-1d", "data.params.std=nan", "data.params.std"),
    "params_mean_inf": ("gaussian-1d", "data.params.mean=-inf", "data.params.mean"),
    "params_mean_huge": ("gaussian-1d", "data.params.mean=1e300", "data.params.mean"),
    "params_std_string": ("gaussian-1d", "data.params.std='wide'", "data.params.std"),
    "params_std_list": ("gaussian-1d", "data.params.std=[1, 2]", "data.params.std"),
    "params_unknown": ("gaussian-1d", "data.params.dim=3", "data.params.dim"),
    "params_name": ("gaussian-1d", "data.params.name='x'", "data.params.name"),
    "params_modes_zero": ("ring-8", "data.params.n_modes=0", "data.params.n_modes"),
    "params_modes_float": ("ring-8", "data.params.n_modes=2.5", "data.params.n_modes"),
    "params_modes_huge": ("ring-8", "data.params.n_modes=1000000000", "data.params.n_modes"),
    "params_side_huge": ("grid-25", "data.params.side=100000", "data.params.side"),
    "params_ring_std_neg": ("ring-8", "data.params.std=-0.01", "data.params.std"),
    "params_stds_empty": (
        "gaussian-1d",
        "data.name='mixture-1d'\0data.params.stds=[]",
        "data.params.stds",
    ),
    "params_stds_zero": (
        "gaussian-1d",
        "data.name='mixture-1d'\0data.params.stds=[0.5, 0.0]",
        "data.params.stds[1]",
    ),
    "params_uniform_order": (
        "gaussian-1d",
        "data.name='uniform'\0data.params.low=5\0data.params.high=1",
        "data.params.high",
    ),
    "params_centres_ragged": (
        "gaussian-1d",
        "data.name='mixture-2d'\0data.params.centres=[[0, 1], [2]]",
        "data.params.centres[1]",
    ),
    "params_deep_list": ("gaussian-1d", "data.params.std=[[[1]]]", "data.params.std"),
    "description_escape": ("gaussian-1d", 'description="a\\u001b[31mb"', "description"),
    "description_newline": ("gaussian-1d", 'description="two\\nlines"', "description"),
    "path_nul": ("gaussian-1d", 'data.path="a\\u0000b"', "data.path"),
    "key_control": ("gaussian-1d", "data.params.a\x1bb=1", "data.params.a\\x1bb"),
    "int_key_overflow": ("gaussian-1d", "optim.lr_d=" + "9" * 400, "optim.lr_d"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_a_bad_value_is_one_line_naming_it_and_nothing_is_written(case, tmp_path):
    preset, sets, culprit = BAD_VALUES[case]
    world = tmp_path / "world"
    world.mkdir()
    (world / "kept.txt").write_text("kept")
    before = tree_state(world)
    out = world / "run"
    args = ["train", "--preset", preset, "--out", out, "--quiet"]
    for text in [*sets.split("\0"), *TINY]:
        args += ["--set", text]
    code, _, err = cli(*args)
    lines = error_lines(err)
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("gankit: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    assert culprit in lines[0], (culprit, lines[0])
    assert not out.exists()
    assert tree_state(world) == before


# ----------------------------------------------------------------------------- one validator

NUMBER_CASES = [
    # (value, keyword arguments, accepted value or the text the error holds)
    (3, dict(lo=0, integer=True), 3),
    (0, dict(lo=0, lo_open=True), "must be > 0"),
    (2.5, dict(integer=True), "expected an integer"),
    (True, dict(), "expected a number"),
    ("1", dict(), "expected a number"),
    ([1], dict(), "expected a number"),
    (None, dict(), "expected a number"),
    (math.nan, dict(), "expected a finite number"),
    (-math.inf, dict(), "expected a finite number"),
    (10**400, dict(), "out of range"),
    (10**400, dict(hi=5, integer=True), "must be <= 5"),
    (7, dict(hi=7, hi_open=True), "must be < 7"),
    (1, dict(lo=0.5, hi=2.0), 1.0),
]


@pytest.mark.parametrize("value, kwargs, expected", NUMBER_CASES)
def test_check_number(value, kwargs, expected):
    if isinstance(expected, str):
        with pytest.raises(GankitError) as exc:
            check_number("--flag", value, **kwargs)
        assert str(exc.value).startswith("--flag: ") and expected in str(exc.value)
        assert "\n" not in str(exc.value)
    else:
        got = check_number("--flag", value, **kwargs)
        assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "text, kwargs, expected",
    [
        ("7", dict(lo=0, integer=True), 7),
        (" -3 ", dict(lo=0, integer=True), "must be >= 0"),
        ("1e3", dict(integer=True), "expected an integer"),
        ("many", dict(integer=True), "expected an integer"),
        ("nan", dict(), "expected a finite number"),
        ("0.25", dict(lo=0.0, hi=1.0), 0.25),
        ("1" + "0" * 30, dict(hi=2**32 - 1, integer=True), "must be <="),
    ],
)
def test_parse_number_of_a_flag(text, kwargs, expected):
    if isinstance(expected, str):
        with pytest.raises(GankitError, match=r"^--seed: ") as exc:
            parse_number("--seed", text, **kwargs)
        assert expected in str(exc.value)
    else:
        assert parse_number("--seed", text, **kwargs) == expected


def test_check_text_and_device():
    assert check_text("description", "plain é ✓") == "plain é ✓"
    for bad in ("a\nb", "tab\there", "\x00", "esc\x1b[0m", "c1\x85", "\udcff"):
        with pytest.raises(GankitError, match=r"^description: ") as exc:
            check_text("description", bad)
        assert "\n" not in str(exc.value)
    assert check_device("--device", "cuda:1") == "cuda:1"
    for bad in ("", "gpu", "cuda:x", "cpu:0", 3, "cuda:\n"):
        with pytest.raises(GankitError, match=r"^--device: "):
            check_device("--device", bad)
    with pytest.raises(GankitError, match=r"^game\.penalties\.gp: expected a finite number"):
        check_weight("gp", math.nan)
    assert check_weight("r1", 0) == 0.0


def test_every_toy_declares_its_parameters_and_the_defaults_pass():
    for name in toy_names():
        spec = toy_params(name)
        assert spec, name
        make_toy(name)  # the defaults are within the declared ranges


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=30).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)))
def test_every_string_is_written_to_toml_so_that_it_reads_back(text):
    line = f"v = {config_mod._toml_value(text)}\n{config_mod._toml_key(text)} = 1\n"
    back = tomllib.loads(line)
    assert back["v"] == text and back[text] == 1


def test_a_config_with_control_characters_round_trips_through_dumps():
    """`dumps` of a config built in Python (no validation on the way) reads back as it was."""
    cfg = config_mod.Config(description='bell\x07 tab\t esc\x1b del\x7f nl\n quote" back\\')
    cfg.data.params = {"odd key\x01": 1.0, "é": 2.0}
    table = tomllib.loads(config_mod.dumps(cfg))
    assert table["description"] == cfg.description
    assert table["data"]["params"] == cfg.data.params


# ----------------------------------------------------------------------------- hypothesis

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-20.0, max_value=20.0),
    st.integers(-(10**20), 10**20),
    st.integers(0, 40),
    st.sampled_from([0, 0.0, -0.0, 1e-300, 5e-5, 1e4, 1e5, 2**63]),
)
values = st.one_of(
    numbers,
    numbers,
    st.booleans(),
    st.text(max_size=4),
    st.lists(numbers, max_size=3),
    st.lists(st.lists(st.floats(-5, 5), min_size=1, max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=2), numbers, max_size=1),
)
TABLE_KEYS = [
    (preset, f"data.params.{key}")
    for preset in TOY_PRESETS
    for key in toy_params(config_mod.preset_table(preset).get("data", {}).get("name", "gaussian"))
] + [(preset, f"game.penalties.{name}") for preset in TOY_PRESETS for name in sorted(PENALTIES)]


def _same(a, b) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    return a == b


@settings(max_examples=40, **HYPOTHESIS_SETTINGS)
@given(where=st.sampled_from(TABLE_KEYS), value=values)
def test_random_values_of_every_table_key_train_a_step_or_are_refused(where, value, tmp_path):
    """A random value of any ``data.params.*`` key of any toy preset, or of any
    ``game.penalties.*`` key: accepted, stored as given and one step trained, or refused with
    `GankitError` in one line naming the key; never another exception, a divergence, a silent
    change, or a run directory left behind by a refusal."""
    preset, key = where
    out = Path(tmp_path) / f"run-{abs(hash((key, repr(value))))}"
    try:
        cfg = config_mod.resolve(preset, overrides=TINY, shorthands={key: value})
        api.train(cfg, out, progress=False, stop_after=1)
    except GankitError as exc:
        message = str(exc)
        assert "\n" not in message, message
        assert key.split(".")[0] in message, (key, message)
        assert not out.exists(), message
        return
    except Diverged as exc:  # the failure this test exists to catch
        pytest.fail(f"{key} = {value!r} diverged: {exc}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    # accepted: the value is what the config holds (a number may become a float)
    section, table, name = key.split(".")
    stored = getattr(getattr(cfg, section), table)[name]
    assert _same(stored, value), (key, value, stored)


# ----------------------------------------------------------------------------- class 3


def _header(path: Path) -> tuple[int, dict, bytes]:
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return n, json.loads(data[8 : 8 + n]), data


def _replace(old: bytes, new: bytes):
    """An edit of the header's bytes that keeps its length: the tensors still read."""
    assert len(old) == len(new)

    def edit(path: Path) -> None:
        n, _, data = _header(path)
        head = data[8 : 8 + n]
        assert old in head, old
        path.write_bytes(data[:8] + head.replace(old, new, 1) + data[8 + n :])

    return edit


def _drop(key: str, step: str | None = None):
    """An edit that drops a metadata entry (and sets the step), padding the header."""

    def edit(path: Path) -> None:
        n, header, data = _header(path)
        header["__metadata__"].pop(key)
        if step is not None:
            header["__metadata__"]["step"] = step
        text = json.dumps(header, separators=(",", ":")).encode()
        path.write_bytes(data[:8] + text + b" " * (n - len(text)) + data[8 + n :])

    return edit


@pytest.mark.parametrize(
    "edit, why",
    [
        (_replace(b'"step":"30"', b'"step":"25"'), "do not match their header_sha256"),
        (_replace(b'\\"eps\\": 1e-08', b'\\"eps\\": 1e-02'), "do not match their header"),
        (_replace(b"0.999", b"0.998"), "do not match their header_sha256"),
        (_replace(b'"format":"gankit-1"', b'"format":"gankit-2"'), "not a gankit checkpoint"),
        (_drop("header_sha256"), "no header_sha256"),
        (_drop("header_sha256", step="25"), "no header_sha256"),  # as an older gankit wrote
        (_drop("sha256"), "no sha256 of its tensors"),
    ],
)
def test_a_changed_header_is_damage_and_resume_falls_back(edit, why, toy_copy):
    """One changed byte of the step or of an optimizer constant: the checkpoint is skipped,
    with a warning naming it, for the previous one; it is never silently used."""
    newest = toy_copy / runs.CHECKPOINTS / "step-30.safetensors"
    before = newest.read_bytes()
    edit(newest)
    assert newest.read_bytes() != before
    with pytest.raises(GankitError, match=why):
        runs.load_checkpoint(newest)
    code, out, err = cli("sample", toy_copy, "-n", "3", "--out", toy_copy.parent / "s.npy")
    assert code == 0, err
    warning = [line for line in error_lines(err) if "step-30.safetensors" in line]
    assert len(warning) == 1 and why in warning[0], err
    assert "skipped for step-25.safetensors" in warning[0]


def test_resume_past_an_edited_step_continues_from_the_intact_checkpoint(toy_copy):
    """The finished run's newest checkpoint claims step 25 (a rewind): resume with more
    steps skips it, with a warning, and continues from the real step 25."""
    newest = toy_copy / runs.CHECKPOINTS / "step-30.safetensors"
    _replace(b'"step":"30"', b'"step":"25"')(newest)
    code, _, err = cli("train", "--out", toy_copy, "--resume", "--steps", "31", "--quiet")
    assert code == 0, err
    assert "step-30.safetensors: damaged checkpoint" in err and "skipped for step-25" in err
    assert runs.load_checkpoint(runs.latest_checkpoint(toy_copy))[0] == 31


def test_a_header_edit_cannot_rewind_a_finished_run(toy_copy):
    """The step of the newest checkpoint changed to another whose digest would match (its
    name too): refused, naming the step, and resume continues from the intact one."""
    newest = toy_copy / runs.CHECKPOINTS / "step-30.safetensors"
    renamed = newest.with_name("step-35.safetensors")
    newest.rename(renamed)  # a name that says another step than the (covered) header
    with pytest.raises(GankitError, match="its name says step 35, its metadata step 30"):
        runs.load_checkpoint(renamed)
    step, tensors, extra = runs.load_checkpoint(toy_copy / runs.CHECKPOINTS / "step-25.safetensors")
    assert step == 25 and isinstance(extra, dict) and tensors


def test_the_header_digest_covers_every_entry(toy_copy):
    from gankit.runs.checkpoints import HEADER_DIGEST, header_digest

    for path in runs.checkpoint_files(toy_copy):
        meta = _header(path)[1]["__metadata__"]
        assert meta[HEADER_DIGEST] == header_digest(meta) and "sha256" in meta
        for key in meta:
            if key != HEADER_DIGEST:
                changed = {**meta, key: meta[key] + " "}
                assert header_digest(changed) != meta[HEADER_DIGEST], key
        inputs = {**meta, "inputs": json.dumps({"shape": [1, 8, 8], "num_classes": 0})}
        assert header_digest(inputs) != meta[HEADER_DIGEST]
