"""Reference statistics cached on disk, keyed by everything they depend on.

Following stylegan2-ada's ``metric_utils``: the key is a sha256 of the data (its bytes, shape
and dtype), the extractor's identity (name, settings, weights hash) and any other settings;
files are written whole or not at all (`gankit.runs.atomic`: temporary file, fsync, rename), so a
crash or a concurrent writer never leaves a half-written file behind. Files are ``.npz`` of float64
`GaussianStats` state (no pickle).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gankit.metrics.streaming import GaussianStats
from gankit.runs.atomic import atomic_write_bytes


def default_cache_dir() -> Path:
    """``$GANKIT_CACHE`` or ``~/.cache/gankit``, with a ``stats`` sub-folder."""
    root = os.environ.get("GANKIT_CACHE") or Path.home() / ".cache" / "gankit"
    return Path(root) / "stats"


def data_hash(array) -> str:
    a = np.ascontiguousarray(np.asarray(array))
    h = hashlib.sha256(f"{a.shape}:{a.dtype};".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def cache_key(**parts) -> str:
    """sha256 of the parts, JSON-encoded with sorted keys (values must be JSON-able)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def save_stats_atomic(stats: GaussianStats, path: Path) -> None:
    """``stats`` as an ``.npz`` at ``path``, written whole or not at all
    (`gankit.runs.atomic.atomic_write_bytes`; a failure is a `RuntimeFailure` naming ``path``)."""
    buffer = io.BytesIO()
    np.savez(buffer, **stats.state_dict())
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_stats(path: Path) -> GaussianStats:
    with np.load(path, allow_pickle=False) as data:
        return GaussianStats.from_state_dict({k: data[k] for k in data.files})


def cached_stats(
    key: str, compute: Callable[[], GaussianStats], cache_dir: str | Path | None = None
) -> tuple[GaussianStats, bool]:
    """Load the statistics stored under ``key``, or compute and store them.

    Returns ``(stats, hit)``. A corrupt cache file is recomputed and replaced.
    """
    path = Path(cache_dir or default_cache_dir()) / f"{key}.npz"
    if path.is_file():
        try:
            return load_stats(path), True
        except (OSError, ValueError, KeyError):
            pass
    stats = compute()
    save_stats_atomic(stats, path)
    return stats, False
