"""A run that blows up stops at once and still gets its diagnosis (no checkpoint needed)."""

import json

from gankit import api, config


def test_diverged_run_stops_and_is_diagnosed(tmp_path):
    cfg = config.resolve(
        "gaussian-1d",
        overrides=[
            "optim.name=sgd",
            "optim.lr_d=1e9",
            "optim.lr_g=1e9",
            "log.every=1",
            "train.steps=30",
        ],
    )
    out = api.train(cfg, tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["event"] == "diverged"
    assert rows[-1]["step"] < 30
    names = [f["name"] for f in json.loads((out / "diagnosis.json").read_text())["failures"]]
    assert "diverged" in names
