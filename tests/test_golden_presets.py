"""Behaviour is pinned: every preset, on seed 0 at a reduced budget, writes the same numbers as
when the digests were recorded (``tests/golden/presets.json``, recorded before the architecture
refactor of issue 11): metrics.jsonl without wall-clock time, every checkpoint's tensors, the
snapshots, the final metrics and the diagnosis. Re-record only for a change meant to alter the
numbers: ``python tests/golden/digests.py --record PRESET``. The presets of `SLOW` (each a
sibling of one the default suite pins) are compared by ``make test-slow``.

The image presets are pinned too (recorded later, issue 20): the two digits presets on the
shipped digits, the four that read ``data.path`` on tiny stand-ins of each format that the
helper writes into the test's ``tmp_path`` (``tests/golden/image_data.py``), with a
``$GANKIT_CACHE`` that starts empty and is shared by the presets of one test worker (the first
preset on a stand-in trains its classifier feature space, the rest read the same weights
back): no real data, no user cache. ``digests.py --record`` trains each preset with a fresh
cache, so a digest recorded there is the one a cache hit must reproduce."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from digests import RECORD, run_digest  # noqa: E402

EXPECTED = json.loads(RECORD.read_text())

#: presets whose every code path another preset of the default suite's digests runs (the same
#: family on the digits or the same loader and nets on MNIST's stand-in), differing in sizes and
#: numbers only: pinned by `make test-slow`, kept out of the default suite for its 10 minutes
SLOW = {
    "fashion-mnist-conditional",  # mnist-conditional's code, fashion-mnist's files
    "alice-mnist",  # bigan-mnist with the cycle term (its own CLI test)
    "autoencoder-mnist",
    "bigan-mnist",
    "gmm-mnist",
    "infogan-mnist",
    "pca-mnist",
    "pix2pix-mnist",
    "pixelcnn-mnist",
    "rbm-mnist",
    "semi-supervised-mnist",
    "vae-mnist",
}
PRESETS = [pytest.param(p, marks=pytest.mark.slow) if p in SLOW else p for p in sorted(EXPECTED)]


@pytest.fixture(scope="module")
def classifier_cache(tmp_path_factory):
    """One ``$GANKIT_CACHE`` for the presets a worker runs: the classifier of each stand-in
    dataset is trained by the first preset that reads it, and read back by the rest."""
    return tmp_path_factory.mktemp("golden-cache")


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_writes_the_recorded_numbers(preset, tmp_path, classifier_cache):
    found = run_digest(preset, tmp_path / preset, work=tmp_path / "work", cache=classifier_cache)
    expected = EXPECTED[preset]
    assert sorted(found) == sorted(expected), "the run directory holds other files"
    changed = [name for name in expected if found[name] != expected[name]]
    assert not changed, f"{preset}: these files changed: {changed}"


def test_every_slow_preset_is_a_recorded_one():
    assert SLOW <= set(EXPECTED)


def test_the_digest_sees_a_changed_number(tmp_path):
    """The comparison can fail: one changed float in metrics.jsonl changes its digest."""
    from digests import directory_digest

    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"step": 1, "d_loss": 0.5, "time": 1.0}\n')
    before = directory_digest(run)
    (run / "metrics.jsonl").write_text('{"step": 1, "d_loss": 0.5000001, "time": 1.0}\n')
    assert directory_digest(run) != before
    (run / "metrics.jsonl").write_text('{"step": 1, "d_loss": 0.5, "time": 9.0}\n')
    assert directory_digest(run) == before  # wall-clock time is not behaviour
