"""The feature caches write through `gankit.runs.atomic`: whole files, a failure named."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from gankit.errors import RuntimeFailure
from gankit.metrics.features.cache import cached_stats, load_stats, save_stats_atomic
from gankit.metrics.streaming import GaussianStats
from gankit.runs import atomic


def _stats() -> GaussianStats:
    return GaussianStats().update(np.random.default_rng(0).normal(size=(20, 3)))


def test_stats_written_whole_and_read_back(tmp_path):
    stats = _stats()
    path = tmp_path / "deep" / "k.npz"
    save_stats_atomic(stats, path)
    assert [p.name for p in path.parent.iterdir()] == ["k.npz"]  # no temporary left
    back = load_stats(path)
    for key, value in stats.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)
    again, hit = cached_stats("k", lambda: pytest.fail("recomputed"), tmp_path / "deep")
    assert hit and again.n == stats.n


def test_a_failed_write_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RuntimeFailure, match="file/k.npz: cannot write"):
        save_stats_atomic(_stats(), blocker / "k.npz")
    path = tmp_path / "k.npz"
    save_stats_atomic(_stats(), path)
    before = path.read_bytes()

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full)
    with pytest.raises(RuntimeFailure, match=r"k.npz: cannot write .*the disk is full"):
        save_stats_atomic(GaussianStats().update(np.ones((4, 3))), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "k.npz"]  # no temporary
