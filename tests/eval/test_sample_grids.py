"""A run's sample grid shows every sample drawn, in a full rectangle: a collapsed generator
fills it with its one class instead of hiding most of its samples; a conditional run's grid
has one labelled row per class asked for."""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image

from gankit import config as config_mod
from gankit.data.grid import BACKGROUND, labelled_rows, scale_for, sorted_grid
from gankit.data.sources import build_data
from gankit.eval import EvalState
from gankit.eval.images import ImageEvaluator


def _tiles(grid: np.ndarray, side: int, pad: int = 2, left: int = 0) -> int:
    """Tiles of a grid that hold an image (not only background)."""
    g = grid[:, left:, 0]
    count = 0
    for top in range(pad, g.shape[0] - side + 1, side + pad):
        for x0 in range(pad, g.shape[1] - side + 1, side + pad):
            if (g[top : top + side, x0 : x0 + side] != BACKGROUND).any():
                count += 1
    return count


def _digit_like(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 100, size=(n, 1, 8, 8), dtype=np.uint8)
    x[:, :, 2:6, 3:5] = 250  # never all background
    return x


def test_every_sample_of_a_collapsed_batch_is_shown():
    images = np.repeat(_digit_like(1), 37, axis=0)  # one sample, 37 times: total collapse
    classes = np.full(37, 8)
    grid = sorted_grid(images, classes)
    side = 8 * scale_for(8)
    cols = math.ceil(math.sqrt(37))
    assert grid.shape[1] == cols * (side + 2) + 2
    assert _tiles(grid, side) == 37


def test_a_conditional_grid_has_a_labelled_row_per_class_asked():
    images = _digit_like(12)
    asked = np.array([0, 1, 2] * 4)
    grid = labelled_rows(images, asked, ["0", "1", "2"])
    side = 8 * scale_for(8)
    assert grid.shape[0] == 3 * (side + 2) + 2
    margin = grid.shape[1] - (4 * (side + 2) + 2)
    assert margin > 0 and (grid[:, :margin, 0] != BACKGROUND).any()  # the labels
    assert _tiles(grid, side, left=margin) == 12


def test_the_evaluator_writes_every_sample_of_a_collapsed_generator(tmp_path):
    cfg = config_mod.resolve(preset="digits-unconditional", overrides=["log.grid=45"])
    data = build_data(cfg)
    evaluator = ImageEvaluator(cfg, data)
    one = torch.from_numpy(_digit_like(1)).float() / 127.5 - 1

    def collapsed(n, rng):
        return one.repeat(n, 1, 1, 1)

    evaluator.snapshot(EvalState(collapsed, 7), tmp_path)
    grid = np.asarray(Image.open(io.BytesIO((tmp_path / "samples" / "step-7.png").read_bytes())))
    assert _tiles(grid[:, :, None], 8 * scale_for(8)) == 45
