"""Shared test settings, and the tiny `digits` run the image CLI tests read.

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


import pytest  # noqa: E402

# Every family's recipe registers its own config section (``[vae]``) when imported, as the CLI
# and gankit.api do; tests that resolve presets through gankit.config alone see them too.
import gankit.recipes  # noqa: E402, F401
from image_cli_kit import TINY, gankit  # noqa: E402


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """A run of the default image preset (`digits`, class-conditional) on the tiny budget,
    shared by the image CLI tests: read it; a test that writes into a run copies it first."""
    run = tmp_path_factory.mktemp("digits") / "run"
    code, _, err = gankit("train", "--preset", "digits", "--out", run, *TINY)
    assert code == 0, err
    return run
