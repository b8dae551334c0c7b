"""Each objective-side remedy through `gankit.api.train` on ring-8 for a few steps, the trainer's
streams with the remedies off, and a bit-identical resume with remedies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gankit import api, config, runs
from gankit.data.sources import build_toy
from gankit.errors import GankitError

FAST = ["log.every=1", "log.eval_every=1000", "model.g_width=32", "model.d_width=32"]
SWITCHES = {
    "roth": ["game.penalties={roth=1.0}"],
    "label-smoothing": ["game.label_smoothing=0.1"],
    "instance-noise": ["game.instance_noise=0.5", "game.instance_noise_steps=10"],
    "feature-matching": ["game.feature_matching=1.0", "game.adversarial_g=false"],
    "unrolled": ["game.unroll=2"],
    "unrolled-sgd-wgan": ["game.unroll=1", "optim.name=sgd", "game.loss=wasserstein"],
    "diversity": ["model.generators=4", "game.diversity=1.0"],
}


def _rows(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / runs.METRICS).read_text().splitlines()]
    return [runs.without_wall_clock(r) for r in rows]


def _train(tmp_path, overrides, steps=12, name="r", **kwargs) -> Path:
    cfg = config.resolve("ring-8", overrides=FAST + overrides, shorthands={"train.steps": steps})
    # stop one step short: trains and checkpoints without the final evaluation and report
    return api.train(cfg, out=tmp_path / name, progress=False, stop_after=steps - 1, **kwargs)


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_each_switch_trains(tmp_path, name):
    rows = _rows(_train(tmp_path, SWITCHES[name]))
    assert len(rows) == 11 and all("event" not in r for r in rows)
    keys = rows[-1].keys()
    expected = {
        "roth": "penalty_roth",
        "instance-noise": "instance_noise",
        "feature-matching": "feature_matching",
        "diversity": "diversity_d",
    }.get(name)
    assert expected is None or expected in keys


def test_logged_instance_noise_follows_the_schedule(tmp_path):
    rows = _rows(_train(tmp_path, SWITCHES["instance-noise"]))
    # the row of step s is logged after the update at 0-based step s - 1
    assert [r["instance_noise"] for r in rows] == pytest.approx(
        [0.5 * max(0.0, 1 - (r["step"] - 1) / 10) for r in rows]
    )


def test_feature_matching_reads_one_more_real_batch_per_step(tmp_path, monkeypatch):
    calls = []
    real_sample = build_toy(config.resolve("ring-8").data).sample.__func__

    def counting(self, n, generator):
        if n == 256:  # minibatches (not the standardisation's reference sample)
            calls.append(n)
        return real_sample(self, n, generator)

    data = build_toy(config.resolve("ring-8").data)
    monkeypatch.setattr(type(data), "sample", counting)
    _train(tmp_path, ["game.feature_matching=1.0"], steps=4)
    assert len(calls) == 3 * 2  # 3 steps x (1 D batch + 1 G batch)
    calls.clear()
    _train(tmp_path, ["game.unroll=2"], steps=4, name="u")
    assert len(calls) == 3 * (1 + 2)  # 3 steps x (1 D batch + 2 unrolled)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["game.label_smoothing=0.1", "game.loss=hinge"], "game.label_smoothing"),
        (["game.penalties={roth=1.0}", "game.loss=least-squares"], "game.penalties.roth"),
        (["game.adversarial_g=false"], "game.adversarial_g"),
        (["game.diversity=1.0"], "game.diversity"),
        (["game.diversity=1.0", "model.generators=2", "model.pack=2"], "game.diversity"),
    ],
)
def test_refusals_through_the_api_name_the_key(tmp_path, overrides, key):
    with pytest.raises(GankitError, match=key.replace(".", r"\.")):
        _train(tmp_path, overrides)


def test_resume_with_remedies_on_is_bit_identical(tmp_path):
    overrides = FAST + [
        "log.every=3",
        "train.checkpoint_every=5",
        "train.batch_size=64",
        "log.final_samples=2000",
        "log.eval_samples=500",
        "game.instance_noise=0.3",
        "game.feature_matching=0.5",
        "game.unroll=1",
        "game.penalties={roth=0.5}",
        "game.label_smoothing=0.1",
    ]
    cfg = config.resolve("ring-8", overrides=overrides, shorthands={"train.steps": 16})
    straight = api.train(cfg, tmp_path / "straight", progress=False, stop_after=15)
    resumed = tmp_path / "resumed"
    api.train(cfg, resumed, progress=False, stop_after=7)
    api.train(cfg, resumed, progress=False, resume=True, stop_after=15)
    assert _rows(straight) == _rows(resumed)
    a = load_file(str(runs.latest_checkpoint(straight)))
    b = load_file(str(runs.latest_checkpoint(resumed)))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_full_run_with_every_switch_finishes(tmp_path):
    overrides = [
        "log.final_samples=2000",
        "log.eval_samples=500",
        "game.instance_noise=0.3",
        "game.feature_matching=0.5",
        "game.unroll=2",
        "game.penalties={roth=0.5}",
        "game.label_smoothing=0.1",
        "model.generators=2",
        "game.diversity=0.5",
    ]
    cfg = config.resolve("ring-8", overrides=overrides, shorthands={"train.steps": 20})
    run = api.train(cfg, out=tmp_path / "r", progress=False)
    final = json.loads((run / "final_metrics.json").read_text())
    assert 0 <= final["modes_covered"] <= 8
