"""The default preset learns N(4, 1.25) from uniform noise, shape included, for every seed
(run with ``make test-slow`` / ``pytest -m slow``). Each seed's wall time is printed in the
summary, not asserted: a timed assertion fails on a loaded machine, not on slow code; the
trainer's cost is measured in ``benchmarks/trainer_overhead.py``, against a hand loop."""

from __future__ import annotations

import time

import pytest

from gankit import api
from gankit.config import resolve

SAMPLES = 100_000


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_default_preset_learns_the_gaussian(tmp_path, seed):
    cfg = resolve("gaussian-1d", shorthands={"train.seed": seed})
    started = time.perf_counter()
    out = api.train(cfg, tmp_path / f"seed-{seed}", progress=False)
    elapsed = time.perf_counter() - started
    m = api.load_run(out).evaluate(n=SAMPLES)
    summary = (
        f"seed {seed}: ks={m['ks']:.4f} jsd={m['jsd']:.5f} kurtosis={m['kurtosis']:.3f} "
        f"mean={m['mean']:.4f} std={m['std']:.4f} time={elapsed:.1f}s"
    )
    assert m["samples"] == SAMPLES
    assert m["ks"] <= 0.02, summary
    assert m["jsd"] <= 0.003, summary
    assert abs(m["kurtosis"]) <= 0.3, summary
    assert abs(m["mean"] - 4.0) <= 0.02 * 4.0, summary
    assert abs(m["std"] - 1.25) <= 0.02 * 1.25, summary
    print(summary)
