"""A run that blows up stops at once with its diagnosis ("diverged at step N", the last finite
values, advice), keeps its last good checkpoint, exits with its own code (3), and `--resume`
continues it, with a changed setting where one is given by `--set`."""

import json

import pytest
import torch
from reliability_kit import TOY

from gankit import api, config, runs
from gankit.cli import main
from gankit.errors import Diverged
from gankit.recipes.gan import GanTrainable

BLOW_UP = ["optim.name=sgd", "optim.lr_d=1e9", "optim.lr_g=1e9"]


def _cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, [line for line in err.splitlines() if line.strip()]


def test_diverged_run_stops_and_is_diagnosed(tmp_path):
    cfg = config.resolve("gaussian-1d", overrides=[*BLOW_UP, "log.every=10", "train.steps=30"])
    with pytest.raises(Diverged) as caught:
        api.train(cfg, tmp_path / "run", progress=False)
    out = tmp_path / "run"
    assert caught.value.run == out and caught.value.step == 1  # at once, not at a logged step
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["event"] == "diverged" and rows[-1]["step"] == 1
    names = [f["name"] for f in json.loads((out / "diagnosis.json").read_text())["failures"]]
    assert "diverged" in names
    assert not runs.checkpoint_files(out)  # no checkpoint of broken weights


def test_cli_exit_3_then_resume_with_a_changed_setting(tmp_path, capsys):
    toml = tmp_path / "c.toml"
    toml.write_text(config.dumps(config.resolve(overrides=[*TOY, *BLOW_UP])))
    run = tmp_path / "run"
    code, lines = _cli(capsys, "train", "--config", toml, "--out", run, "--quiet")
    assert code == 3 and len(lines) == 1, lines
    assert lines[0].startswith("gankit: diverged at step 1: non-finite d_loss = nan")
    assert "no checkpoint was written before it" in lines[0]
    assert "try: lower both learning rates" in lines[0]
    assert f"continue with: gankit train --out {run} --resume --set KEY=VALUE" in lines[0]
    # a checkpoint cannot follow another optimizer: refused, naming the key, nothing written
    before = (run / "metrics.jsonl").read_bytes()
    code, lines = _cli(capsys, "train", "--out", run, "--resume", "--set", "optim.name=adam")
    assert code == 2 and "optim.name" in lines[0] and len(lines) == 1
    assert (run / "metrics.jsonl").read_bytes() == before
    code, lines = _cli(
        capsys,
        "train",
        "--out",
        run,
        "--resume",
        "--set",
        "optim.lr_d=0.001",
        "--set",
        "optim.lr_g=0.001",
        "--quiet",
    )
    assert code == 0, lines
    assert any("resumed at step 0 with optim.lr_d: 1000000000.0 -> 0.001" in line for line in lines)
    assert config.resolve(config_file=run / "config.toml").optim.lr_d == 0.001
    rows = runs.read_metrics(run)
    assert rows[0]["event"] == "resume" and rows[0]["step"] == 0
    assert (run / "final_metrics.json").is_file()


def test_divergence_after_checkpoints_keeps_the_last_good_one(tmp_path, monkeypatch, capsys):
    """D's weights turn NaN during step 12 (logged: the weight check sees it): the run stops
    there, checkpoints 5 and 10 stay, no checkpoint 15 is written; --resume with a new setting
    continues from step 10."""
    step_of_harm = 12
    original = GanTrainable.after_update

    def harmful(self, phase, step):
        original(self, phase, step)
        if phase == "G" and step + 1 == step_of_harm:
            with torch.no_grad():
                next(self.D.parameters()).fill_(float("nan"))

    monkeypatch.setattr(GanTrainable, "after_update", harmful)
    toml = tmp_path / "c.toml"
    toml.write_text(config.dumps(config.resolve(overrides=TOY)))
    run = tmp_path / "run"
    code, lines = _cli(capsys, "train", "--config", toml, "--out", run, "--quiet")
    assert code == 3 and len(lines) == 1, lines
    assert lines[0].startswith(f"gankit: diverged at step {step_of_harm}: non-finite weights in D")
    assert "last finite values at step 11: d_loss = " in lines[0]
    assert f"kept the last good checkpoint {run}/checkpoints/step-10.safetensors" in lines[0]
    assert [p.name for p in runs.checkpoint_files(run)] == [
        "step-10.safetensors",
        "step-5.safetensors",
    ]
    rows = runs.read_metrics(run)
    assert rows[-1]["event"] == "diverged" and rows[-1]["step"] == step_of_harm
    assert not (run / "final_metrics.json").exists() and not (run / runs.LOCK).exists()
    monkeypatch.setattr(GanTrainable, "after_update", original)
    code, lines = _cli(
        capsys, "train", "--out", run, "--resume", "--set", "optim.lr_d=0.0005", "--quiet"
    )
    assert code == 0, lines
    rows = runs.read_metrics(run)
    resumed = [r for r in rows if r.get("event") == "resume"]
    assert resumed == [{"step": 10, "event": "resume", "set": ["optim.lr_d: 0.002 -> 0.0005"]}]
    assert [r["step"] for r in rows if "d_loss" in r] == list(range(1, 31))
    assert runs.load_checkpoint(runs.latest_checkpoint(run))[0] == 30
