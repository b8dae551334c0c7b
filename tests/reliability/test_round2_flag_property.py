"""Issue 21's property for command-line values: any text given to any numeric flag of any
command is either accepted as a value in the flag's range, or refused by the parser in one line
naming the flag (exit 2); never an internal error. Accepted values then do their work: a
`sample` or `evaluate` of a finished run with an accepted -n/--seed/--class runs or refuses in
one line."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import cli

from gankit.cli import build_parser
from gankit.config import MAX_BATCH, MAX_COUNT, MAX_SAMPLES, MAX_SEED, MAX_STEPS
from gankit.errors import GankitError, UsageError

#: (command line before the value, the flag, its range) for every numeric flag
FLAGS = [
    (["sample", "RUN", "--out", "s.npy", "-n"], "-n", (1, MAX_SAMPLES)),
    (["sample", "RUN", "-n", "3", "--out", "s.npy", "--seed"], "--seed", (0, MAX_SEED)),
    (["sample", "RUN", "-n", "3", "--out", "s.npy", "--class"], "--class", (0, MAX_COUNT)),
    (["evaluate", "RUN", "-n"], "-n", (2, MAX_SAMPLES)),
    (["evaluate", "RUN", "--seed"], "--seed", (0, MAX_SEED)),
    (["train", "--seed"], "--seed", (0, MAX_SEED)),
    (["train", "--steps"], "--steps", (1, MAX_STEPS)),
    (["fid", "A", "B", "--batch-size"], "--batch-size", (1, MAX_BATCH)),
    (["features", "A", "--out", "f.npy", "--batch-size"], "--batch-size", (1, MAX_BATCH)),
]

texts = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "1e3", "0x10", "1_000", "-0", "+5", "nan", "inf", "many", "3.0"]),
    st.text(max_size=8),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(FLAGS) - 1), text=texts)
def test_every_numeric_flag_accepts_its_range_or_refuses_in_one_line(which, text):
    head, flag, (lo, hi) = FLAGS[which]
    parser = build_parser()
    try:
        args = parser.parse_args([*head, text])
    except (UsageError, GankitError) as exc:
        message = str(exc)
        assert "\n" not in message.strip() and flag in message, message
        return
    value = {"-n": "n", "--seed": "seed", "--class": "label", "--steps": "steps"}.get(
        flag, "batch_size"
    )
    got = getattr(args, value)
    assert isinstance(got, int) and not isinstance(got, bool) and lo <= got <= hi, (text, got)


@pytest.mark.parametrize(
    "args",
    [
        ["sample", "{run}", "-n", "4", "--seed", "4294967295", "--out", "{tmp}/s.npy"],
        ["sample", "{run}", "-n", "4", "--class", "3", "--out", "{tmp}/c.npy"],
        ["evaluate", "{run}", "-n", "2", "--seed", "7"],
    ],
)
def test_accepted_extremes_do_their_work_or_refuse_in_one_line(toy_copy, tmp_path, args):
    code, _, err = cli(*(a.format(run=toy_copy, tmp=tmp_path) for a in args))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code in (0, 2) and "Traceback" not in err, err
    assert code == 0 or len(lines) == 1, err
