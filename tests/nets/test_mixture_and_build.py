"""MixtureGenerator against its members run alone; build_models' switches and refusals; a few
steps of `gankit.api.train` with each switch."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn

from gankit import api, config, runs
from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets.build import build_image_models, build_models
from gankit.nets.mixture import MixtureGenerator
from gankit.nets.mlp import Discriminator, Generator
from gankit.nets.moments import MomentsDiscriminator


@pytest.mark.parametrize("n", [12, 14])  # a whole number of rounds, and a ragged last round
def test_sample_i_comes_from_generator_i_mod_k(n):
    torch.manual_seed(0)
    k = 5
    g = MixtureGenerator(k, 3, 2, 8, 2, "leaky_relu")
    g.standardize.shift.fill_(4.0)
    g.standardize.scale.fill_(2.0)
    z = torch.randn(n, 3)
    out = g(z)
    assert out.shape == (n, 2)
    idx = g.generator_index(n)
    assert idx.dtype == torch.long and idx.tolist() == [i % k for i in range(n)]
    for j in range(k):
        alone = g.member(j)
        assert isinstance(alone, Generator)
        assert torch.allclose(out[idx == j], alone(z[idx == j]), atol=1e-6)
    assert len({tuple(g.member(j).body.net[0].weight.flatten().tolist()) for j in range(k)}) == k


def test_mixture_checkpoint_and_deepcopy():
    torch.manual_seed(0)
    g = MixtureGenerator(25, 2, 2, 16, 2, "relu")
    other = MixtureGenerator(25, 2, 2, 16, 2, "relu")
    other.load_state_dict(g.state_dict(), strict=True)
    z = torch.randn(100, 2)
    assert torch.equal(g(z), other(z))
    ema = copy.deepcopy(g).requires_grad_(False)
    torch._foreach_lerp_(list(ema.parameters()), list(g.parameters()), 0.5)
    assert torch.allclose(ema(z), g(z))
    assert g.n_generators == 25


def _model(**kw) -> ModelConfig:
    return config.from_dict({"model": kw}).model


def test_build_models_switches():
    g, d = build_models(_model(), 2)
    assert type(g) is Generator and type(d) is Discriminator
    g, d = build_models(_model(generators=4), 2)
    assert isinstance(g, MixtureGenerator) and d.identity_head is None
    g, d = build_models(_model(generators=4), 2, identity_head=True)
    assert d.identity(d.features(torch.randn(8, 2))).shape == (8, 4)
    _, d = build_models(_model(d_input="moments"), 1)
    assert isinstance(d, MomentsDiscriminator)
    _, d = build_models(_model(pack=2, spectral_norm=True, minibatch_std=True), 2)
    assert d(torch.randn(8, 2)).shape == (4, 1)


@pytest.mark.parametrize(
    ("kw", "identity", "key"),
    [
        ({"d_input": "moments", "pack": 2}, False, "model.pack"),
        ({"d_input": "moments", "minibatch_std": True}, False, "model.minibatch_std"),
        ({"d_input": "moments", "minibatch_kernels": 3}, False, "model.minibatch_kernels"),
        ({"generators": 3, "pack": 2}, True, "model.pack"),
        ({"generators": 3, "d_input": "moments"}, True, "model.d_input"),
        ({}, True, "model.generators"),
        ({"d_fc": 8}, False, "model.d_fc"),
        ({"g_fc": 8}, False, "model.g_fc"),
        ({"arch": "dirac", "g_fc": 8}, False, "model.g_fc"),
    ],
)
def test_build_models_refuses_nonsense(kw, identity, key):
    with pytest.raises(GankitError, match=key):
        build_models(_model(**kw), 1, identity_head=identity)


def test_batch_size_must_split_into_packs(tmp_path):
    cfg = config.resolve("gaussian-1d", overrides=["model.pack=3"])
    with pytest.raises(GankitError, match="model.pack"):
        api.train(cfg, out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


TINY = [
    "train.steps=4",
    "train.checkpoint_every=2",
    "log.every=2",
    "log.eval_every=4",
    "log.eval_samples=200",
    "log.final_samples=500",
    "model.g_width=8",
    "model.d_width=8",
    "model.ema=0.5",
]


SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "switch",
    [
        # the fast suite trains two combinations; each switch alone is in the slow suite
        [
            "model.spectral_norm=true",
            "game.penalties={ r1 = 1.0 }",
            "model.minibatch_std=true",
            "model.minibatch_kernels=3",
            "model.pack=2",
        ],
        ['model.d_input="moments"', "model.generators=3"],
        pytest.param(["model.spectral_norm=true", "game.penalties={ r1 = 1.0 }"], marks=SLOW),
        pytest.param(["model.minibatch_std=true"], marks=SLOW),
        pytest.param(["model.minibatch_kernels=3"], marks=SLOW),
        pytest.param(["model.pack=4"], marks=SLOW),
        pytest.param(['model.d_input="moments"'], marks=SLOW),
        pytest.param(["model.generators=3"], marks=SLOW),
    ],
)
def test_train_a_few_steps_with_each_switch(tmp_path, switch):
    cfg = config.resolve("gaussian-1d", overrides=TINY + switch)
    out = api.train(cfg, out=tmp_path / "run", progress=False, stop_after=2)
    out = api.train(cfg, out=out, resume=True, progress=False)  # restores D and G strictly
    final = json.loads((out / "final_metrics.json").read_text())
    assert final["step"] == 4
    run = api.load_run(out)
    assert run.sample(10).shape == (10, 1)
    snap = dict(np.load(out / runs.SNAPSHOTS / "step-4.npz"))
    assert ("d_grid" in snap) == getattr(run.discriminator, "pointwise", True)


def test_image_models_read_the_fully_connected_layers():
    g, d = build_image_models(_model(arch="dcgan", noise_dim=4, g_fc=8, d_fc=6), (1, 16, 16))
    assert g.hidden[0].out_features == 8 and g.net[0].in_channels == 8
    assert d.feature_dim == 6 and d(g(torch.randn(3, 4))).shape == (3, 1)
    g, d = build_image_models(_model(arch="dcgan", noise_dim=4), (1, 16, 16))
    assert isinstance(g.hidden, nn.Identity) and isinstance(d.hidden, nn.Identity)
