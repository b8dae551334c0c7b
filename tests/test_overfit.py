"""Discriminator overfitting on a finite training set (``data.train_size``): the training set,
Karras et al.'s r_v by hand, its detector on constructed rows, and the presets end to end."""

import json

import pytest
import torch

from gankit import api
from gankit import config as config_mod
from gankit.data.finite import TrainingSet
from gankit.data.toy import make_toy
from gankit.diagnose import DIAGNOSIS, detect_discriminator_overfit, summary
from gankit.errors import GankitError
from gankit.metrics.overfit import overfit_ratio


def test_training_set_is_fixed_by_the_seed_and_sampled_from():
    data = make_toy("gaussian")
    a, b, c = TrainingSet(data, 16, 0), TrainingSet(data, 16, 0), TrainingSet(data, 16, 1)
    assert a.points.shape == (16, 1) and len(a) == 16
    assert torch.equal(a.points, b.points) and not torch.equal(a.points, c.points)
    x = a.sample(500, torch.Generator().manual_seed(3))
    assert x.shape == (500, 1)
    assert set(x[:, 0].tolist()) <= set(a.points[:, 0].tolist())
    assert len(set(x[:, 0].tolist())) == 16  # 500 draws with replacement reach all 16
    with pytest.raises(ValueError, match="at least one point"):
        TrainingSet(data, 0, 0)


def test_overfit_ratio_by_hand():
    out = overfit_ratio(torch.tensor([0.8, 0.6]), torch.tensor([0.5]), torch.tensor([0.3, 0.5]))
    assert out == pytest.approx(
        {"d_train": 0.7, "d_heldout": 0.5, "d_gen": 0.4, "d_overfit": 2 / 3}
    )
    # D scores held-out data like its training data: 0; like fakes: 1
    assert overfit_ratio(torch.ones(3), torch.ones(3), torch.zeros(3))["d_overfit"] == 0.0
    assert overfit_ratio(torch.ones(3), torch.zeros(3), torch.zeros(3))["d_overfit"] == 1.0
    # no separation between training and generated data: the ratio is undefined, left out
    assert "d_overfit" not in overfit_ratio(
        torch.full((2,), 0.5), torch.zeros(2), torch.full((2,), 0.5)
    )


def _rows(train, held, gen, steps=4000, every=500):
    rows = [{"step": s, "d_loss": 1.3, "g_loss": 0.7} for s in range(10, steps + 1, 10)]
    for r in rows:
        if r["step"] % every == 0:
            r.update(d_train=train, d_heldout=held, d_gen=gen)
    return rows


def _cfg(loss="nonsaturating"):
    return config_mod.resolve("gaussian-1d-small-data", overrides=[f"game.loss={loss}"])


def test_overfit_detected_with_its_evidence():
    f = detect_discriminator_overfit(_rows(0.52, 0.47, 0.48), _cfg())
    assert f["name"] == "discriminator_overfit"
    assert f["first_step"] == 2500 and f["last_step"] == 4000
    assert f["evidence"]["r_v"][-1] == pytest.approx(1.25) and f["evidence"]["train_size"] == 32
    assert f["advice"][-1] == "the remedied preset: --preset gaussian-1d-small-data-r1"


@pytest.mark.parametrize(
    "train, held, gen",
    [
        (0.5, 0.5, 0.5),  # D flat (R1 on): no separation at all
        (0.52, 0.515, 0.48),  # r_v = 0.125: held-out data scored like training data
        (0.502, 0.499, 0.499),  # r_v = 1 but the gap (0.003) is noise
    ],
)
def test_overfit_clean(train, held, gen):
    assert detect_discriminator_overfit(_rows(train, held, gen), _cfg()) is None


def test_overfit_needs_the_last_evaluation_and_scales_raw_scores():
    rows = _rows(0.52, 0.47, 0.48)
    rows[-1].update(d_heldout=0.52)  # recovered at the end
    assert detect_discriminator_overfit(rows, _cfg()) is None
    # a critic's raw scores: the gap counts relative to their scale
    assert detect_discriminator_overfit(_rows(40.0, 39.9, 39.8), _cfg("wasserstein")) is None
    assert detect_discriminator_overfit(_rows(40.0, 38.0, 37.0), _cfg("wasserstein")) is not None
    assert detect_discriminator_overfit(_rows(0.5, 0.4, 0.3)[:10], _cfg()) is None  # no evals


def test_short_run_logs_the_read_outs(tmp_path):
    cfg = config_mod.resolve(
        "gaussian-1d-small-data",
        overrides=["train.steps=60", "log.eval_every=30", "log.final_samples=2000"],
    )
    out = api.train(cfg, tmp_path / "run", progress=False)
    evals = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in evals if "d_train" in r]
    assert [r["step"] for r in evals] == [30, 60]
    assert all(0 < r[k] < 1 for r in evals for k in ("d_train", "d_heldout", "d_gen"))
    diagnosis = json.loads((out / DIAGNOSIS).read_text())
    assert "discriminator_overfit" not in {f["name"] for f in diagnosis["failures"]}  # too early
    assert diagnosis["overfit_checked"] is True
    assert summary({"failures": [], "overfit_checked": True}).endswith("discriminator overfit).")
    assert "overfit" not in summary({"failures": []})
    # a D that judges packs has no read-out of single points: nothing logged
    cfg = config_mod.resolve(
        "gaussian-1d-small-data",
        overrides=["train.steps=30", "log.eval_every=30", "log.final_samples=2000", "model.pack=2"],
    )
    out = api.train(cfg, tmp_path / "packed", progress=False)
    assert "d_train" not in (out / "metrics.jsonl").read_text()


def _run(tmp_path, preset, seed):
    cfg = config_mod.resolve(preset, shorthands={"train.seed": seed})
    out = api.train(cfg, tmp_path / f"{preset}-{seed}", progress=False)
    return {f["name"] for f in json.loads((out / DIAGNOSIS).read_text())["failures"]}


@pytest.mark.slow
def test_small_data_overfits_on_most_seeds(tmp_path):
    hits = sum(
        "discriminator_overfit" in _run(tmp_path, "gaussian-1d-small-data", s) for s in range(5)
    )
    assert hits >= 4


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_small_data_with_r1_is_clean(tmp_path, seed):
    assert _run(tmp_path, "gaussian-1d-small-data-r1", seed) == set()


def test_boosting_refuses_a_training_set_before_writing(tmp_path):
    cfg = config_mod.resolve("ring-8", overrides=["game.boost_rounds=2", "data.train_size=64"])
    with pytest.raises(GankitError, match="data.train_size = 64: AdaGAN"):
        api.train(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
