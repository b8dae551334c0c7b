"""The toy evaluator (`gankit.eval.toy`) and the evaluator registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit import config as config_mod
from gankit.data.sources import build_data
from gankit.errors import GankitError
from gankit.eval import EVALUATORS, EvalState, eval_stream, evaluator_for, register_evaluator
from gankit.metrics.divergences import toy_metrics
from gankit.metrics.overfit import overfit_ratio


def _setup(overrides=()):
    cfg = config_mod.resolve(preset="gaussian-1d", overrides=["log.eval_samples=1000", *overrides])
    data = build_data(cfg)
    return cfg, data, evaluator_for(cfg, data)


def shifted(n, rng):
    """A stand-in generator: the data shifted by 1."""
    return torch.randn(n, 1, generator=rng) * 1.25 + 5.0


def test_metrics_are_the_toy_metrics_of_the_evaluation_stream():
    cfg, data, ev = _setup()
    assert ev.kind == "toy" and ev.headline == "jsd"
    got = ev(EvalState(shifted, step=40))
    expected = toy_metrics(data.distribution, shifted(1000, eval_stream(cfg.train.seed, 40)))
    assert got == expected
    assert got != ev(EvalState(shifted, step=41))  # another step, another stream


def test_overfit_read_outs_with_a_training_set():
    cfg, data, ev = _setup(["data.train_size=32"])
    d = torch.nn.Linear(1, 1)
    torch.nn.init.constant_(d.weight, 1.0)
    torch.nn.init.constant_(d.bias, -4.0)
    got = ev(EvalState(shifted, step=10, discriminator=d, readout_loss="nonsaturating"))
    stream = eval_stream(cfg.train.seed, 10)
    samples = shifted(1000, stream)
    held = data.distribution.sample(1000, stream)

    def read(x):
        return torch.sigmoid(d(x).reshape(-1)).detach()

    expected = overfit_ratio(read(data.source.points), read(held), read(samples))
    for key in ("d_train", "d_heldout", "d_gen"):
        assert got[key] == pytest.approx(expected[key], rel=1e-12)


def test_snapshot_holds_samples_and_the_read_out_on_a_grid(tmp_path):
    cfg, data, ev = _setup()
    d = torch.nn.Linear(1, 1)
    ev.snapshot(EvalState(shifted, 7, d, "hinge"), tmp_path)
    with np.load(tmp_path / "snapshots" / "step-7.npz") as npz:
        assert npz["samples"].shape == (5000, 1) and npz["samples"].dtype == np.float32
        assert npz["grid"].shape == npz["d_grid"].shape == (400,)
        assert not bool(npz["d_is_probability"])  # hinge: raw critic scores
        grid = torch.from_numpy(npz["grid"]).unsqueeze(1)
        np.testing.assert_allclose(npz["d_grid"], d(grid).detach().reshape(-1).numpy())


def test_registry_refuses_unknown_kinds_and_duplicates():
    cfg, data, _ = _setup()
    data.kind = "spectra"
    with pytest.raises(GankitError, match="no evaluator for data of kind 'spectra'"):
        evaluator_for(cfg, data)
    with pytest.raises(GankitError, match="already registered"):
        register_evaluator("toy", EVALUATORS["toy"])
