"""`--resume` with `--steps` / `--set`: a finished run is extended; what the run has already
passed, or what its checkpoints hold, is refused in one line with nothing written."""

from __future__ import annotations

from reliability_kit import cli, tree_state

from gankit import config as config_mod
from gankit import runs


def test_resume_extends_or_refuses(toy_copy):
    before = tree_state(toy_copy)
    for args, culprit in (
        (["--steps", "10"], "train.steps = 10 is below step 30"),
        (["--set", "model.d_width=8"], "model.d_width cannot change"),
        (["--set", "data.name=ring-8"], "data.name cannot change"),
        (["--set", "train.stesp=40"], "'train.stesp'"),
    ):
        code, _, err = cli("train", "--out", toy_copy, "--resume", *args, "--quiet")
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and culprit in lines[0], err
        assert tree_state(toy_copy) == before
    code, _, err = cli("train", "--out", toy_copy, "--resume", "--steps", "35", "--quiet")
    assert code == 0, err
    assert (
        err.strip() == f"gankit: warning: {toy_copy}: resumed at step 30 with train.steps: 30 -> 35"
    )
    assert runs.latest_checkpoint(toy_copy).name == "step-35.safetensors"
    assert config_mod.resolve(config_file=toy_copy / runs.CONFIG).train.steps == 35
    rows = runs.read_metrics(toy_copy)
    assert {"step": 30, "event": "resume", "set": ["train.steps: 30 -> 35"]} in rows
    assert [r["step"] for r in rows if "d_loss" in r] == list(range(1, 36))
