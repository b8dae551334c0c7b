"""Fixtures of the reliability tests: the uninterrupted runs that interrupted ones must match."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from reliability_kit import DIGITS, TOY

from gankit import api
from gankit import config as config_mod


def _straight(root: Path, preset: str, overrides) -> Path:
    torch.set_num_threads(1)  # the children run on one thread too: the same float sums
    cfg = config_mod.resolve(preset, overrides=list(overrides))
    return api.train(cfg, root / "straight", progress=False)


@pytest.fixture(scope="session")
def straight_toy(tmp_path_factory) -> Path:
    """The toy run of `TOY`, never interrupted (read it, never write into it)."""
    return _straight(tmp_path_factory.mktemp("straight-toy"), "gaussian-1d", TOY)


@pytest.fixture(scope="session")
def straight_digits(tmp_path_factory) -> Path:
    """The image run of `DIGITS`, never interrupted."""
    return _straight(tmp_path_factory.mktemp("straight-digits"), "digits", DIGITS)


@pytest.fixture
def toy_copy(straight_toy, tmp_path) -> Path:
    """A private copy of the finished toy run, to damage."""
    return Path(shutil.copytree(straight_toy, tmp_path / "run"))
