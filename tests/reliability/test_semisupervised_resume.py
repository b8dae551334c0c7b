"""The loop's resume guarantee for the semi-supervised GAN and its supervised baseline: a run
stopped at a step and resumed ends bit-identical to one never stopped (its four streams, both
optimizers, G's EMA, D's average and D's held-out accuracy in the rows)."""

from __future__ import annotations

import pytest
import torch
from reliability_kit import DIGITS, assert_same_final_state

from gankit import api, runs
from gankit import config as config_mod

SEMI = [
    *DIGITS,
    "train.batch_size=16",
    "semi.labelled_batch_size=8",
    "model.ema=0.9",
    "semi.classifier_ema=0.9",
    "log.final_samples=200",
]


@pytest.mark.parametrize("adversarial", [True, False])
def test_stop_then_resume_is_bit_identical(tmp_path, adversarial):
    torch.set_num_threads(1)
    overrides = [*SEMI, f"semi.adversarial={str(adversarial).lower()}"]
    if not adversarial:
        overrides.remove("model.ema=0.9")
    cfg = config_mod.resolve("semi-supervised-digits", overrides=overrides)
    straight = api.train(cfg, tmp_path / "straight", progress=False)
    run = tmp_path / "run"
    api.train(cfg, run, progress=False, stop_after=7)
    assert runs.latest_checkpoint(run).name == "step-7.safetensors"
    api.train(None, run, progress=False, resume=True)
    assert_same_final_state(straight, run)
