"""pix2pix with ``model.ema``: the checkpoints keep G's EMA beside G, and it is the bias-corrected
average of G's iterates worked out by hand from the checkpoints of every step; a stop and a
resume end bit-identical to the run never stopped; a loaded run translates with the EMA; the
other ``model.*`` keys are still refused; the EMA cannot be switched on or off on resume."""

from __future__ import annotations

import pytest
import torch

from gankit import api, runs
from gankit import config as config_mod
from gankit.errors import GankitError
from gankit.nets.ema import debiased_decay
from reliability.reliability_kit import assert_same_final_state

PRESET = "pix2pix-digits"
DECAY = 0.6
STEPS = 3  # a run keeps its newest three checkpoints: every step's G
EVERY_STEP = [
    f"train.steps={STEPS}",
    "train.batch_size=8",
    "train.checkpoint_every=1",
    "log.every=1",
    f"log.eval_every={STEPS}",
    "log.eval_samples=100",
    "log.final_samples=100",
    "log.final_draws=1",
    "pix2pix.g_width=4",
    "pix2pix.d_width=4",
]


def _tensors(run, step: int, prefix: str) -> dict[str, torch.Tensor]:
    _, tensors, _ = runs.load_checkpoint(run / runs.CHECKPOINTS / f"step-{step}.safetensors")
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    torch.set_num_threads(1)  # the same float sums in every run of this module
    cfg = config_mod.resolve(PRESET, overrides=[*EVERY_STEP, f"model.ema={DECAY}"])
    return api.train(cfg, tmp_path_factory.mktemp("pix2pix-ema") / "run", progress=False)


def test_the_ema_is_the_debiased_average_of_g_by_hand(ema_run):
    iterates = [_tensors(ema_run, step, "G.") for step in range(1, STEPS + 1)]
    kept = _tensors(ema_run, STEPS, "G_ema.")
    assert set(kept) == set(iterates[0])
    moved = 0
    for name, final in kept.items():
        if not final.is_floating_point():  # batch norm's counter is copied, not averaged
            assert torch.equal(final, iterates[-1][name]), name
            continue
        by_hand = iterates[0][name].double()  # the first update copies G
        for t, g in enumerate(iterates[1:], start=2):
            d = debiased_decay(DECAY, t)
            by_hand = d * by_hand + (1 - d) * g[name].double()
        torch.testing.assert_close(final.double(), by_hand, rtol=1e-5, atol=1e-6, msg=name)
        moved += not torch.equal(final, iterates[-1][name])
    assert moved > 0  # the EMA is not G itself


def test_a_stop_then_resume_is_bit_identical(ema_run, tmp_path):
    cfg = config_mod.resolve(PRESET, overrides=[*EVERY_STEP, f"model.ema={DECAY}"])
    run = tmp_path / "run"
    api.train(cfg, run, progress=False, stop_after=2)
    api.train(None, run, progress=False, resume=True)
    assert_same_final_state(ema_run, run)


def test_a_loaded_run_translates_with_the_ema(ema_run):
    loaded = api.load_run(ema_run)
    kept = _tensors(ema_run, STEPS, "G_ema.")
    state = loaded.generator.state_dict()
    assert all(torch.equal(state[k], v) for k, v in kept.items())
    live = _tensors(ema_run, STEPS, "G.")
    assert any(not torch.equal(state[k], v) for k, v in live.items())


def test_the_ema_cannot_change_on_resume(tmp_path):
    cfg = config_mod.resolve(PRESET, overrides=[*EVERY_STEP, "train.steps=2"])
    run = api.train(cfg, tmp_path / "run", progress=False)
    with pytest.raises(GankitError, match="model.ema"):
        api.train(None, run, progress=False, resume=True, overrides=["model.ema=0.9"])


def test_other_model_keys_are_still_refused():
    with pytest.raises(GankitError, match="model.noise_dim = 3 means nothing"):
        api.train(config_mod.resolve(PRESET, overrides=["model.noise_dim=3"]), "unused")
