"""The RBM end to end on a tiny budget (`gankit train --preset rbm-digits`): a complete run
directory with the pseudo-likelihood in every evaluation and the likelihoods in the final
metrics, the chain strip and the report's section; persistent CD's chains in the checkpoint
and a resumed run equal to a straight one; `gankit sample` and `evaluate` as for a GAN; and the
refusals, each one line with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from gankit import api, runs
from gankit.data.binarize import binarize_heldout
from gankit.data.checks import from_net
from gankit.game import rbm as rbm_math
from gankit.recipes.rbm.step import gibbs_samples
from image_cli_kit import TINY, assert_refused, gankit, resumed_like_straight, rows_of, train_tiny

#: what keeps the RBM's own work tiny too: short chains, a short AIS
RBM_TINY = [
    "--set",
    "rbm.sample_steps=20",
    "--set",
    "rbm.ais_betas=200",
    "--set",
    "rbm.ais_chains=16",
]
FINAL_KEYS = {
    "pseudo_likelihood",
    "pseudo_likelihood_exact",
    "log_z",
    "log_z_stderr",
    "log_likelihood_ais",
    "log_likelihood_ais_train",
    "bits_per_dim",
}


@pytest.fixture(scope="module")
def rbm_run(tmp_path_factory):
    return train_tiny(tmp_path_factory, "rbm-digits", *RBM_TINY)


def test_the_run_directory_is_complete_with_the_likelihoods(rbm_run):
    run = rbm_run
    for name in ("config.toml", "metrics.jsonl", "final_metrics.json", "report.html"):
        assert (run / name).is_file(), name
    evaluations = [r for r in rows_of(run) if "fid_digits" in r]
    assert [r["step"] for r in evaluations] == [15, 30]
    for r in evaluations:
        assert -64 * np.log(2) * 4 < r["pseudo_likelihood"] < 0
    trained = [r for r in rows_of(run) if "loss" in r]
    assert trained and all(np.isfinite(r["loss"]) for r in trained)
    final = json.loads((run / "final_metrics.json").read_text())
    assert FINAL_KEYS | {"fid_digits"} <= set(final)
    assert final["log_z_stderr"] > 0 and final["log_likelihood_ais"] < 0
    assert final["bits_per_dim"] == pytest.approx(-final["log_likelihood_ais"] / (64 * np.log(2)))
    tensors = load_file(str(runs.latest_checkpoint(run)))
    assert tensors["chains.chains"].shape == (16, 100)  # persistent CD: batch_size chains
    assert set(tensors["chains.chains"].unique().tolist()) <= {0.0, 1.0}


def test_the_final_likelihood_is_the_free_energy_less_log_z(rbm_run):
    """log_likelihood_ais is -F(v) - log Z averaged over the held-out split's fixed bits."""
    loaded = api.load_run(rbm_run)
    final = json.loads((rbm_run / "final_metrics.json").read_text())
    x = torch.from_numpy(np.asarray(loaded.data.heldout.images, np.float32)).reshape(-1, 64)
    bits = binarize_heldout(x * 2 - 1, "stochastic")
    W, b, c = (t.detach().double() for t in loaded.generator.params)
    want = float(rbm_math.log_likelihood(bits.double(), W, b, c, final["log_z"]).mean())
    assert final["log_likelihood_ais"] == pytest.approx(want, rel=1e-9)
    assert loaded.family_metrics() == pytest.approx(
        {k: final[k] for k in FINAL_KEYS}
    )  # seeded: the same on every call


def test_the_chain_strip_is_written_and_shown_in_the_report(rbm_run):
    info = json.loads((rbm_run / "rbm" / "chain.json").read_text())
    assert info["steps"] == [0, 1, 2, 5, 10, 20] and info["chains"] == 8
    with Image.open(rbm_run / "rbm" / "chain.png") as im:
        # 8 rows and 6 columns of 8x8 digits scaled x4 with 2-pixel gaps
        assert im.format == "PNG" and im.size == (6 * 34 + 2, 8 * 34 + 2)
    page = (rbm_run / "report.html").read_text()
    assert "RBM likelihoods and Gibbs chains" in page and "log_likelihood_ais" in page
    assert 'alt="samples along Gibbs chains"' in page


def test_a_resumed_run_ends_as_the_straight_one(rbm_run, tmp_path):
    """The persistent chains and both streams are restored: every number is the same."""
    resumed_like_straight(rbm_run, tmp_path, stop_after=17)


def test_sample_gives_gibbs_chains_in_the_image_layout(rbm_run, tmp_path):
    out = tmp_path / "s.npy"
    code, _, err = gankit("sample", rbm_run, "-n", 5, "--seed", 3, "--out", out)
    assert code == 0, err
    got = np.load(out)
    assert got.shape == (5, 1, 8, 8) and got.dtype == np.float32
    assert got.min() >= 0.0 and got.max() <= 1.0
    loaded = api.load_run(rbm_run)
    want = from_net(gibbs_samples(loaded.generator, 5, 20, torch.Generator().manual_seed(3))[0])
    np.testing.assert_allclose(got, want.numpy(), atol=1e-6)
    code, _, err = gankit("sample", rbm_run, "-n", 2, "--class", 1, "--out", tmp_path / "c.npy")
    assert code == 2 and "--class 1" in err and len(err.strip().splitlines()) == 1, err


def test_evaluate_reads_an_rbm_run_as_a_gans(rbm_run, tmp_path):
    code, out, err = gankit("evaluate", rbm_run, "-n", 150, "--json")
    assert code == 0, err
    metrics = json.loads(out)
    metrics = metrics.get("metrics", metrics)
    assert "fid_digits" in metrics and "log_likelihood_ais" in metrics


def test_cd_k_without_persistence_trains_without_chains(tmp_path):
    run = tmp_path / "run"
    sets = ["--set", "rbm.persistent=false", "--set", "rbm.cd_k=2", "--set", "log.eval_every=0"]
    code, _, err = gankit("train", "--preset", "rbm-digits", "--out", run, *TINY, *sets)
    assert code == 0, err
    tensors = load_file(str(runs.latest_checkpoint(run)))
    assert not any(k.startswith("chains.") for k in tensors)


@pytest.mark.parametrize(
    ("preset", "sets", "expected"),
    [
        ("rbm-digits", ["game.loss=hinge"], "game.loss = 'hinge' means nothing for model.family"),
        ("rbm-digits", ["model.conditional=true"], "model.conditional = True"),
        ("rbm-digits", ["optim.lr_g=0.1"], "optim.lr_g"),
        ("rbm-digits", ["data.name=ring-8"], "is for image data; data.name = 'ring-8' is a toy"),
        ("rbm-digits", ["rbm.binarize=half"], "rbm.binarize"),
        ("rbm-digits", ["rbm.grid_bits=7"], "rbm.grid_bits = 7 means something for 2-D toys"),
        ("rbm-ring-8", ["rbm.binarize=threshold"], "rbm.binarize = 'threshold' means something"),
        ("rbm-ring-8", ["rbm.ais_chains=5"], "rbm.ais_chains = 5 means something"),
        ("rbm-ring-8", ["data.name=gaussian"], "'gaussian' is a 1-D toy"),
        ("rbm-ring-8", ["rbm.grid_bits=13"], "rbm.grid_bits"),
        ("digits", ["rbm.hidden=5"], "rbm"),
    ],
)
def test_misfits_are_refused_before_anything_is_written(tmp_path, preset, sets, expected):
    assert_refused(tmp_path / "run", preset, sets, expected)


def test_a_divergence_exits_3_in_one_line(tmp_path):
    """Weights pushed to infinity make the logged free-energy gap NaN: the loop's divergence."""
    run = tmp_path / "run"
    code, _, err = gankit(
        "train", "--preset", "rbm-digits", "--out", run, *TINY, "--set", "rbm.lr=1e38"
    )
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 3 and len(lines) == 1 and lines[0].startswith("gankit: diverged at step "), err
    assert not (run / runs.FINAL).exists()
    assert runs.read_metrics(run)[-1]["event"] == "diverged"
