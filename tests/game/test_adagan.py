"""AdaGAN boosting (gankit.game.adagan): the reweighting math against a brute-force solution and
its limits, the mixture's sampling frequencies, and a tiny boosted run end to end (train, resume,
load_run, `gankit sample` / `gankit evaluate`)."""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from gankit import api, config
from gankit.data.weighted import WeightedPool
from gankit.errors import GankitError
from gankit.game import adagan
from gankit.nets.boosted import BoostedMixture
from gankit.recipes.adagan import BoostedRun
from gankit.recipes.adagan.rounds import POOL_SIZE, read_tensors


def _brute_lambda(h: np.ndarray, beta: float) -> float:
    """Root of sum_i (lambda - (1 - beta) h_i)_+ = N beta by bisection (f is increasing)."""
    n, c = len(h), 1.0 - beta
    lo, hi = 0.0, n * beta + c * h.max() + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.maximum(mid - c * h, 0.0).sum() < n * beta:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("beta", [1.0, 0.5, 0.25, 1 / 7, 0.01])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lambda_and_weights_match_brute_force(beta, seed):
    rng = np.random.default_rng(seed)
    h = rng.lognormal(0.0, 2.0, size=257)
    h[:5] = 0.0  # points the model never generates
    h[10:20] = h[10]  # ties
    lam = adagan.optimal_lambda(torch.from_numpy(h), beta)
    assert lam == pytest.approx(_brute_lambda(h, beta), rel=1e-9)
    w = adagan.data_weights(torch.from_numpy(h), beta).numpy()
    expected = np.maximum(lam - (1 - beta) * h, 0.0) / (len(h) * beta)
    np.testing.assert_allclose(w, expected, rtol=1e-9, atol=1e-15)
    assert w.dtype == np.float64 and w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (w >= 0).all()
    assert w[:5].max() == w.max() and np.allclose(w[:5], w[0])  # h = 0: the highest weight
    assert np.allclose(w[10:20], w[10])  # ties, equal weights
    order = np.argsort(h, kind="stable")
    assert (np.diff(w[order]) <= 1e-15).all()  # nonincreasing in h


def test_weights_limits():
    h = torch.tensor([0.0, 0.5, 1.0, 2.0, 4.0])
    # beta = 1: the new component replaces the model, the pool is taken as it is
    torch.testing.assert_close(adagan.data_weights(h, 1.0), torch.full((5,), 0.2).double())
    # a perfect model (h = 1 everywhere) gives uniform weights for every beta
    for beta in (0.9, 0.5, 0.1):
        torch.testing.assert_close(
            adagan.data_weights(torch.ones(6), beta), torch.full((6,), 1 / 6).double()
        )
    # beta -> 0: all the mass, uniformly, on the points with the smallest h
    w = adagan.data_weights(torch.tensor([0.0, 0.0, 1.0, 3.0]), 1e-6)
    torch.testing.assert_close(w, torch.tensor([0.5, 0.5, 0.0, 0.0]).double())
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="beta"):
            adagan.data_weights(h, bad)
    with pytest.raises(ValueError, match="h"):
        adagan.data_weights(torch.tensor([1.0, -1.0]), 0.5)
    with pytest.raises(ValueError, match="h"):
        adagan.data_weights(torch.tensor([1.0, math.inf]), 0.5)


def test_weights_worked_example():
    """Mixture covers 6 of 8 equal modes (h = 8/6 there, 0 on the 2 missed); beta = 1/2: lambda*
    = 1, weights 1 (missed) : 1/3 (covered), so the missed modes get half of the pool's mass and
    (1/2) G_1 + (1/2) Q puts exactly 1/8 on every mode."""
    h = torch.tensor([0.0] * 2 + [8 / 6] * 6)
    assert adagan.optimal_lambda(h, 0.5) == pytest.approx(1.0)
    w = adagan.data_weights(h, 0.5)
    torch.testing.assert_close(w, torch.tensor([0.25] * 2 + [1 / 12] * 6).double())
    model = 0.5 * torch.tensor([0.0] * 2 + [1 / 6] * 6).double() + 0.5 * w
    torch.testing.assert_close(model, torch.full((8,), 1 / 8).double())


def test_density_ratio_and_mixture_weights():
    logits = torch.tensor([0.0, math.log(3.0), -1e4, 1e4])
    h = adagan.density_ratio(logits)
    assert h.dtype == torch.float64 and torch.isfinite(h).all()
    assert h[0] == pytest.approx(1.0) and h[1] == pytest.approx(1 / 3)
    assert [adagan.round_beta(t) for t in (1, 2, 4)] == [1.0, 0.5, 0.25]
    alpha = adagan.mixture_weights([adagan.round_beta(t) for t in range(1, 6)])
    torch.testing.assert_close(alpha, torch.full((5,), 0.2).double())
    alpha = adagan.mixture_weights([1.0, 0.5, 0.1])
    torch.testing.assert_close(alpha, torch.tensor([0.45, 0.45, 0.1]).double())
    with pytest.raises(ValueError):
        adagan.mixture_weights([0.5, 0.5])


class _Const(nn.Module):
    """A 'generator' that outputs its index, to count which component produced each sample."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, z):
        return torch.full((z.shape[0], 1), self.value)


def test_mixture_samples_components_with_their_weights():
    weights = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    mix = BoostedMixture([_Const(0), _Const(1), _Const(2)], weights, noise_dim=2, noise="normal")
    n = 60_000
    x = mix.sample(n, torch.Generator().manual_seed(0), batch=7000)
    assert x.shape == (n, 1) and x.dtype == torch.float32
    freq = torch.bincount(x[:, 0].long(), minlength=3).double() / n
    # 5 binomial standard deviations
    assert torch.all((freq - weights).abs() < 5 * torch.sqrt(weights * (1 - weights) / n))
    again = mix.sample(n, torch.Generator().manual_seed(0), batch=7000)
    assert torch.equal(x, again)  # reproducible from the generator, whatever the batch split


def test_weighted_pool_frequencies():
    points = torch.arange(4.0).reshape(4, 1)
    pool = WeightedPool(points, torch.tensor([0.0, 0.5, 0.25, 0.25]))
    x = pool.sample(40_000, torch.Generator().manual_seed(1))
    freq = torch.bincount(x[:, 0].long(), minlength=4).double() / len(x)
    assert freq[0] == 0.0
    torch.testing.assert_close(
        freq[1:], torch.tensor([0.5, 0.25, 0.25]).double(), atol=0.015, rtol=0
    )


# ----------------------------------------------------------------------------- end to end


def _tiny(tmp_path_factory=None, **extra):
    overrides = [
        "game.boost_rounds=2",
        "log.eval_samples=500",
        "log.final_samples=2500",
        "train.checkpoint_every=10",
        *(f"{k}={v}" for k, v in extra.items()),
    ]
    return config.resolve("ring-8", overrides=overrides, shorthands={"train.steps": 20})


@pytest.fixture(scope="module")
def boosted(tmp_path_factory):
    out = tmp_path_factory.mktemp("adagan") / "r"
    api.train(_tiny(), out=out, progress=False)
    return out


def test_boosted_run_directory(boosted):
    rows = [json.loads(line) for line in (boosted / "metrics.jsonl").read_text().splitlines()]
    assert [(r["round"], r["step"], r["beta"]) for r in rows] == [(1, 20, 1.0), (2, 40, 0.5)]
    for r in rows:
        for key in ("modes_covered", "high_quality", "reverse_kl", "w1", "pool_ess"):
            assert isinstance(r[key], float), key
    assert rows[0]["pool_ess"] == pytest.approx(1.0) and rows[1]["pool_ess"] < 1.0
    state = json.loads((boosted / "mixture.json").read_text())
    assert [r["round"] for r in state["rounds"]] == [1, 2] and state["weights"] == [0.5, 0.5]
    for t in (1, 2):
        sub = boosted / "rounds" / f"round-{t}"
        assert (sub / "checkpoints" / "step-20.safetensors").is_file()
        assert (sub / "classifier.safetensors").is_file()
        sub_cfg = config.resolve(config_file=sub / "config.toml")
        assert sub_cfg.game.boost_rounds == 0 and sub_cfg.train.seed == 1000 * (t - 1)
    w = read_tensors(boosted / "rounds" / "round-2" / "pool_weights.safetensors")["weights"]
    assert w.shape == (POOL_SIZE,) and w.sum().item() == pytest.approx(1.0)
    for name in ("final_metrics.json", "report.html", "density.png", "diagnosis.json"):
        assert (boosted / name).is_file(), name
    assert sorted(p.name for p in (boosted / "snapshots").iterdir()) == [
        "step-20.npz",
        "step-40.npz",
    ]
    # a round is an ordinary run: G_t alone loads and evaluates
    assert api.load_run(boosted / "rounds" / "round-2").step == 20


def test_load_run_samples_the_mixture(boosted):
    run = api.load_run(boosted)
    assert isinstance(run, BoostedRun) and run.step == 40
    assert len(run.generator.components) == 2
    x = run.sample(1000, seed=3)
    assert x.shape == (1000, 2) and torch.isfinite(x).all()
    assert torch.equal(x, run.sample(1000, seed=3)) and not torch.equal(x, run.sample(1000, seed=4))
    final = json.loads((boosted / "final_metrics.json").read_text())
    assert final["step"] == 40 and final == pytest.approx(run.evaluate(), nan_ok=True)


def test_cli_sample_and_evaluate(boosted, tmp_path):
    from gankit.cli import main

    def cli(*args):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main([str(a) for a in args])
        return code, out.getvalue()

    code, _ = cli("sample", boosted, "-n", "64", "--out", tmp_path / "s.npy")
    assert code == 0
    arr = np.load(tmp_path / "s.npy")
    assert arr.shape == (64, 2) and arr.dtype == np.float32
    code, text = cli("evaluate", boosted, "--json", "-n", "2500")
    assert code == 0
    metrics = json.loads(text.strip().splitlines()[-1])
    assert metrics["step"] == 40 and 0 <= metrics["modes_covered"] <= 8


def test_resume_gives_the_same_mixture(boosted, tmp_path):
    out = tmp_path / "r"
    api.train(_tiny(), out=out, progress=False, stop_after=30)  # stops halfway through round 2
    assert len(json.loads((out / "mixture.json").read_text())["rounds"]) == 1
    assert not (out / "final_metrics.json").exists()
    logged = []
    api.train(config.resolve("ring-8"), out=out, resume=True, progress=False, on_log=logged.append)
    # round 2 continued from its step-10 checkpoint (RUN's own config, not the one passed)
    assert [r["step"] for r in logged if "d_loss" in r] == [20]
    x, y = api.load_run(out).sample(500, seed=0), api.load_run(boosted).sample(500, seed=0)
    torch.testing.assert_close(x, y)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [1, 2]


def test_refuses_boosting_with_several_generators(tmp_path):
    with pytest.raises(GankitError, match=r"game\.boost_rounds.*model\.generators"):
        api.train(_tiny(**{"model.generators": 2}), out=tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_no_finished_round_is_a_clear_error(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "config.toml").write_text(config.dumps(_tiny()))
    with pytest.raises(GankitError, match="no checkpoint"):
        api.load_run(out)
