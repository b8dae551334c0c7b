"""The MNIST benchmarks' cheap parts (issue 23), without the MNIST files: each script refuses a
folder without them in one line with status 2; the judge's scores and cache key; the baseline's
nets at 28 x 28. The benchmarks themselves (training, judging 10,000 samples) are not run here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import mnist_baseline  # noqa: E402
import mnist_judge  # noqa: E402


@pytest.mark.parametrize("script", ["mnist_judge", "mnist_baseline", "mnist_compare"])
def test_missing_data_is_one_line_and_status_2(script, tmp_path):
    missing = tmp_path / "no-mnist"
    proc = subprocess.run(
        [sys.executable, str(BENCH / f"{script}.py"), "--data", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{script}: needs the MNIST IDX files") and str(missing) in lines[0]
    assert "Traceback" not in proc.stderr


def _judge(test01: np.ndarray) -> mnist_judge.Judge:
    torch.manual_seed(0)
    net = mnist_judge.JudgeNet().eval()
    return mnist_judge.Judge(net, 0.0, "k", Path("j.pt"), True, 0.0, 1, test01, test01[::-1])


def test_judge_scores_shapes_and_shares():
    rng = np.random.default_rng(0)
    test01 = rng.random((300, 1, 28, 28), dtype=np.float32)
    judge = _judge(test01)
    samples = rng.random((200, 1, 28, 28), dtype=np.float32)
    feats, probs = judge.features(samples), judge.probabilities(samples)
    assert feats.shape == (200, 128) and feats.dtype == np.float64
    assert probs.shape == (200, 10) and np.allclose(probs.sum(1), 1.0)
    scores = mnist_judge.judge_scores(judge, samples)
    assert len(scores["class_shares"]) == 10
    assert sum(scores["class_shares"]) == pytest.approx(1.0, abs=1e-4)
    assert scores["rarest_class_share"] == pytest.approx(min(scores["class_shares"]), abs=1e-5)
    assert 0.0 <= scores["confident_share"] <= 1.0
    assert scores["fid"] > 0.0 and scores["fid_floor"] == pytest.approx(0.0, abs=1e-6)
    # the same images score (near) zero, and the explicit test set agrees with the default
    same = mnist_judge.judge_scores(judge, test01, test01.copy())
    assert same["fid"] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        judge.features(samples * 2.0)


def test_judge_key_follows_recipe_and_data(monkeypatch):
    arrays = [np.zeros((4, 1, 28, 28), np.uint8), np.zeros(4, np.int64)] * 2
    key = mnist_judge.judge_key(*arrays)
    assert mnist_judge.judge_key(*arrays) == key
    changed = [arrays[0] + 1, *arrays[1:]]
    assert mnist_judge.judge_key(*changed) != key
    monkeypatch.setitem(mnist_judge.RECIPE, "epochs", 99)
    assert mnist_judge.judge_key(*arrays) != key


def test_baseline_nets_are_28x28():
    g, d = mnist_baseline.Generator(), mnist_baseline.Discriminator()
    with torch.no_grad():
        x = g(torch.randn(3, mnist_baseline.NZ))
        assert x.shape == (3, 1, 28, 28) and float(x.abs().max()) <= 1.0
        assert d(x).shape == (3, 1)
    images = mnist_baseline.generate(g, 70, seed=0, bn="train")
    assert images.shape == (70, 1, 28, 28) and images.min() >= 0.0 and images.max() <= 1.0
