"""The semi-supervised GAN's target on digits (issue 24; slow: ``pytest -m slow``): with 10
labelled images per class, D's held-out accuracy at least 5 points above the supervised
baseline (the same D on the 100 labelled images alone, the same preset and steps:
``semi.adversarial = false``), at the preset's default budget. Measured (docs/results.md,
"semi-supervised"): +6.4, +4.7, +5.1, +3.7, +5.4 points on seeds 0-4 (mean +5.1): seeds 1
and 3 miss, strict xfails. On MNIST (skipped where ``shared/data/mnist`` is absent): the
target of >= 97 % held-out accuracy with 100 labels, seed 0 of `semi-supervised-mnist`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gankit import api
from gankit.config import resolve

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
MISSED = pytest.mark.xfail(strict=True, reason="measured below +5 points (+4.7, +3.7)")


def heldout_accuracy(run: Path) -> float:
    return json.loads((run / "final_metrics.json").read_text())["heldout_accuracy"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "seed", [0, pytest.param(1, marks=MISSED), 2, pytest.param(3, marks=MISSED), 4]
)
def test_digits_semi_supervised_beats_the_supervised_baseline_by_5_points(tmp_path, seed):
    accuracy = {}
    for adversarial in (True, False):
        cfg = resolve(
            "semi-supervised-digits",
            overrides=[f"train.seed={seed}", f"semi.adversarial={str(adversarial).lower()}"],
        )
        run = api.train(cfg, tmp_path / f"adversarial-{adversarial}", progress=False)
        accuracy[adversarial] = heldout_accuracy(run)
    summary = f"semi-supervised {accuracy[True]:.4f}, supervised baseline {accuracy[False]:.4f}"
    assert accuracy[True] >= accuracy[False] + 0.05, summary


@pytest.mark.slow
@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the MNIST files are not in {MNIST}")
def test_mnist_semi_supervised_reaches_97_percent_with_100_labels(tmp_path):
    """Seed 0 of `semi-supervised-mnist` (about 15 CPU minutes): measured 0.9789 (seeds 0-4:
    0.976-0.980, docs/results.md)."""
    cfg = resolve("semi-supervised-mnist", overrides=[f"data.path={MNIST}", "train.seed=0"])
    run = api.train(cfg, tmp_path / "run", progress=False)
    assert heldout_accuracy(run) >= 0.97, heldout_accuracy(run)
