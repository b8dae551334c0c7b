"""Shared test settings.

Tiny nets on a shared two-core machine run many times slower with several intra-op threads
(they spin against each other and against other processes), so tests use one torch thread, and
the subprocesses they start inherit ``OMP_NUM_THREADS=1``."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

torch.set_num_threads(1)
