"""The image presets reach their targets (slow: `make test-slow` / ``pytest -m slow``).

`digits` (issue 12), seeds 0-4: FID in the digits feature space at most twice the real floor
(FID of as many training images against the held-out split) -- judged by FID's mean over the
preset's 100 draws of 1,500 images, since one draw is noisy --, every class between 0.5x and 2x
its uniform share in the generated class histogram, the 1-NN accuracy reported, a clean
diagnosis; the conditional preset's samples read as the class asked for. `digits-unconditional`
(self-conditioned on k-means clusters, issue 23) is held to 1.5x the floor, which seed 0 misses
(a strict xfail).
`mnist` on the real MNIST files (skipped where ``shared/data/mnist`` is absent): every class at
least half its share, FID no worse than a bound around what was measured. The comparison with a
textbook 28x28 DCGAN at the same wall-clock, judged by a classifier gankit does not train, is a
benchmark (``benchmarks/mnist_compare.py``); timings are too. `mnist-conditional` (issue 24),
seed 0: its samples read as the class asked for, every class at least 97 % of the time (the
target)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gankit import api
from gankit.config import resolve

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def final_and_diagnosis(run: Path) -> tuple[dict, dict]:
    final = json.loads((run / "final_metrics.json").read_text())
    return final, json.loads((run / "diagnosis.json").read_text())


def digits_summary(seed: int, final: dict) -> str:
    fid, floor = final["fid_mean_digits"], final["fid_floor_digits"]
    return (
        f"seed {seed}: fid mean {fid:.2f} +- {final['fid_draws_std_digits']:.2f} over "
        f"{final['fid_draws']} draws (one draw {final['fid_digits']:.2f}), floor {floor:.2f}, "
        f"ratio {fid / floor:.2f}, classes {final['class_ratio_min']:.2f}-"
        f"{final['class_ratio_max']:.2f}, 1-NN {final['one_nn_accuracy_digits']:.3f}"
    )


def check_digits_targets(seed: int, final: dict, diagnosis: dict) -> None:
    summary = digits_summary(seed, final)
    assert final["fid_draws"] == 100, summary
    assert final["fid_mean_digits"] <= 2 * final["fid_floor_digits"], summary
    assert 0.5 <= final["class_ratio_min"] and final["class_ratio_max"] <= 2.0, summary
    assert 0.5 <= final["one_nn_accuracy_digits"] <= 1.0, summary
    assert diagnosis["failures"] == [], diagnosis["summary"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_digits_preset_reaches_twice_the_real_floor(tmp_path, seed):
    """The class-conditional `digits` preset: measured 1.31-1.46x the floor (2026-11-29), its
    samples read as the class asked for 98-99 % of the time."""
    run = api.train(
        resolve("digits", shorthands={"train.seed": seed}), tmp_path / "d", progress=False
    )
    final, diagnosis = final_and_diagnosis(run)
    check_digits_targets(seed, final, diagnosis)
    assert final["class_agreement"] >= 0.9, digits_summary(seed, final)


# Measured 2026-12-05 on 2 CPU cores (issue 23): self-conditioned on 30 k-means clusters for
# 12,000 steps, the preset's FID mean is 1.46x, 1.40x, 1.19x, 1.34x and 1.35x the floor on seeds
# 0-4 (8,000 steps: 1.54x-1.28x, seed 0 above 1.5x; plain G(z): 1.87-2.02x).


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_digits_unconditional_preset_reaches_one_and_a_half_times_the_real_floor(tmp_path, seed):
    """Issue 23's standard for `digits-unconditional` (no class label read): FID's mean over 100
    draws at most 1.5x the real floor, every class within 0.5-2x of its share."""
    run = api.train(
        resolve("digits-unconditional", shorthands={"train.seed": seed}),
        tmp_path / "d",
        progress=False,
    )
    final, _ = final_and_diagnosis(run)
    summary = digits_summary(seed, final)
    assert final["fid_draws"] == 100, summary
    assert final["fid_mean_digits"] <= 1.5 * final["fid_floor_digits"], summary
    assert 0.5 <= final["class_ratio_min"] and final["class_ratio_max"] <= 2.0, summary
    assert "class_agreement" not in final, summary  # clusters are not classes


@pytest.mark.slow
@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the MNIST files are not in {MNIST}")
@pytest.mark.parametrize("seed", [0, 1])
def test_mnist_preset_draws_every_class_at_its_share(tmp_path, seed):
    """Issue 23 in gankit's own space: every class at least 5 % of the samples (half its
    share), FID below a bound around what seed 0 measured self-conditioned (0.455; plain G(z)
    2.77-2.86 on seeds 0-3), a clean diagnosis.
    The comparison with the textbook DCGAN at the same wall-clock, judged by a classifier
    gankit does not train, is `benchmarks/mnist_compare.py` (docs/results.md, "mnist")."""
    cfg = resolve("mnist", overrides=[f"data.path={MNIST}", f"train.seed={seed}"])
    run = api.train(cfg, tmp_path / "m", progress=False)
    final, diagnosis = final_and_diagnosis(run)
    summary = f"fid {final['fid_mnist']:.3f}, floor {final['fid_floor_mnist']:.3f}, {final}"
    assert final["class_ratio_min"] >= 0.5, summary
    assert final["fid_mnist"] <= 0.8, summary
    assert diagnosis["failures"] == [], diagnosis["summary"]


@pytest.fixture(scope="module")
def mnist_conditional_seed_0(tmp_path_factory):
    cfg = resolve("mnist-conditional", overrides=[f"data.path={MNIST}", "train.seed=0"])
    run = api.train(cfg, tmp_path_factory.mktemp("mc") / "m", progress=False)
    return final_and_diagnosis(run)


def conditional_summary(final: dict) -> str:
    per_class = ", ".join(f"{a:.4f}" for a in final["class_agreement_per_class"])
    return (
        f"agreement {final['class_agreement']:.4f} (per class {per_class}); fid "
        f"{final['fid_mnist']:.3f}, intra-class {final['intra_fid_mnist']:.3f} (floor "
        f"{final['intra_fid_floor_mnist']:.3f})"
    )


@pytest.mark.slow
@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the MNIST files are not in {MNIST}")
def test_mnist_conditional_preset_draws_the_class_asked_for(mnist_conditional_seed_0):
    """Issue 24, seed 0, bounds around what it measured (12,000 steps: agreement 0.9897, every
    class 0.978-1.0, FID_mnist 0.064, intra-class FID 0.323 against floors averaging 0.097;
    seeds 0-4 in docs/results.md, "mnist-conditional")."""
    final, diagnosis = mnist_conditional_seed_0
    summary = conditional_summary(final)
    assert final["class_agreement"] >= 0.98, summary
    assert final["class_agreement_min"] >= 0.96, summary
    assert final["fid_mnist"] <= 0.15 and final["intra_fid_mnist"] <= 0.6, summary
    assert diagnosis["failures"] == [], diagnosis["summary"]


@pytest.mark.slow
@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the MNIST files are not in {MNIST}")
def test_mnist_conditional_preset_reaches_97_percent_on_every_class(mnist_conditional_seed_0):
    """Issue 24's target: every class read as asked in at least 97 % of its samples (seed 0
    measured 0.978 at its smallest, the 2s; seeds 0-4: 0.973-0.980)."""
    final, _ = mnist_conditional_seed_0
    assert final["class_agreement_min"] >= 0.97, conditional_summary(final)
