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
cache, so a digest recorded there is the one a cache hit must reproduce.

The bytes are pinned per numeric platform: a machine whose kernels round otherwise (its
`digests.numeric_fingerprint`) is compared with its own
``tests/golden/platforms/<fingerprint>.json`` where one is recorded (``digests.py
--platform``), else with ``presets.json``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
import digests  # noqa: E402
from digests import expected_digests, recorded_presets, run_digest  # noqa: E402

#: this machine's numeric platform's digests where recorded, else the reference recording
EXPECTED, SOURCE = expected_digests()

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
PRESETS = [pytest.param(p, marks=pytest.mark.slow) if p in SLOW else p for p in recorded_presets()]


@pytest.fixture(scope="module")
def classifier_cache(tmp_path_factory):
    """One ``$GANKIT_CACHE`` for the presets a worker runs: the classifier of each stand-in
    dataset is trained by the first preset that reads it, and read back by the rest."""
    return tmp_path_factory.mktemp("golden-cache")


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_writes_the_recorded_numbers(preset, tmp_path, classifier_cache):
    if preset not in EXPECTED:
        pytest.skip(
            f"{preset}: recorded on other numeric platforms only, none for this machine's "
            f"({digests.platform_record().stem}): `python tests/golden/digests.py --platform "
            f"{preset}` records it, on code that passes there"
        )
    found = run_digest(preset, tmp_path / preset, work=tmp_path / "work", cache=classifier_cache)
    expected = EXPECTED[preset]
    assert sorted(found) == sorted(expected), "the run directory holds other files"
    changed = [name for name in expected if found[name] != expected[name]]
    assert not changed, f"{preset}: these files changed against {SOURCE}: {changed}"


def test_every_slow_preset_is_a_recorded_one():
    assert SLOW <= set(recorded_presets())


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


def test_the_numeric_fingerprint_is_stable_and_reads_the_kernels():
    """The same in one process; another in a process whose ATen kernels are the plain C++
    ones (``ATEN_CPU_CAPABILITY=default``), which round otherwise."""
    import subprocess

    import torch

    if torch.backends.cpu.get_cpu_capability() == "DEFAULT":
        pytest.skip("this CPU runs ATen's plain C++ kernels already: no other to compare")
    first = digests.numeric_fingerprint()
    assert first == digests.numeric_fingerprint() and len(first) == 16
    code = "import digests; print(digests.numeric_fingerprint())"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "PYTHONPATH": str(digests.HERE)}
    other = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert len(other) == 16 and other != first


def test_a_platform_file_overrides_the_reference_preset_by_preset(tmp_path, monkeypatch):
    reference = {"a": {"m": "1"}, "b": {"m": "2"}}
    (tmp_path / "presets.json").write_text(json.dumps(reference))
    monkeypatch.setattr(digests, "RECORD", tmp_path / "presets.json")
    monkeypatch.setattr(digests, "PLATFORMS", tmp_path / "platforms")
    expected, source = expected_digests()
    assert expected == reference and "has no file" in source
    (tmp_path / "platforms").mkdir()
    digests.platform_record().write_text(json.dumps({"b": {"m": "3"}}))
    expected, source = expected_digests()
    assert expected == {"a": {"m": "1"}, "b": {"m": "3"}}
    assert source.startswith("platforms/")


def test_recording_new_numbers_keeps_them_to_this_platform(tmp_path, monkeypatch):
    """``--record`` on a machine with a platform file writes there and drops the preset from
    the reference (stale there); with no platform file, into the reference; ``--platform``
    skips a preset whose digests equal the reference's."""
    monkeypatch.setattr(digests, "RECORD", tmp_path / "presets.json")
    monkeypatch.setattr(digests, "PLATFORMS", tmp_path / "platforms")
    digests.RECORD.write_text(json.dumps({"a": {"m": "1"}, "b": {"m": "2"}}))
    digests.record_platform({"a": {"m": "1"}, "b": {"m": "7"}})
    assert json.loads(digests.platform_record().read_text()) == {"b": {"m": "7"}}
    digests.record_new_numbers({"a": {"m": "9"}})
    assert json.loads(digests.RECORD.read_text()) == {"b": {"m": "2"}}
    assert json.loads(digests.platform_record().read_text()) == {"a": {"m": "9"}, "b": {"m": "7"}}
    assert recorded_presets() == ["a", "b"]
    digests.platform_record().unlink()
    digests.record_new_numbers({"b": {"m": "5"}})
    assert json.loads(digests.RECORD.read_text()) == {"b": {"m": "5"}}
