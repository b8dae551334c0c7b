"""Image run directories fabricated by hand, following `docs/image-runs.md` (no training): the
config, training and evaluation rows in ``metrics.jsonl``, ``samples/step-N.png`` grids,
``snapshots/step-N.npz``, ``final_metrics.json``, ``nearest.npz`` and a diagnosis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from gankit import config

S = "digits"
STEPS = 100
GRID_EVERY = 5  # 20 grids: more than the animation's 12 frames
EVAL_EVERY = 50
K = 10  # classes
GRID = 16  # images per grid


def image_config(seed: int = 0, description: str = "digits, by hand") -> str:
    cfg = config.resolve(
        overrides=["data.name=digits", "model.arch=dcgan", f"train.steps={STEPS}"],
        shorthands={"train.seed": seed},
    )
    cfg.description = description
    return config.dumps(cfg)


def eval_metrics(rng: np.random.Generator, step: int) -> dict:
    hist = rng.integers(20, 40, K)
    hist[3] = 1  # a class nearly dropped
    shares = hist / hist.sum()
    return {
        f"fid_{S}": 40.0 / (1 + step / 50),
        f"fid_floor_{S}": 2.5,
        f"kid_{S}": 0.05 / (1 + step / 50),
        f"kid_std_{S}": 0.004,
        f"precision_{S}": 0.5 + step / 400,
        f"recall_{S}": 0.4 + step / 500,
        f"density_{S}": 0.8,
        f"coverage_{S}": 0.6,
        f"is_{S}": 5.0 + step / 100,
        f"is_std_{S}": 0.2,
        "class_histogram": hist.tolist(),
        "n_classes": K,
        "classes_covered": int((shares >= 0.5 / K).sum()),
        "class_ratio_min": float(shares.min() * K),
        "class_ratio_max": float(shares.max() * K),
        "d_train": 0.7,
        "d_heldout": 0.6,
        "d_gen": 0.3,
        "d_overfit": 0.25,
    }


def images(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 1, 8, 8), dtype=np.uint8)


def make_image_run(
    path: Path, seed: int = 0, description: str = "digits, by hand", diagnosis: dict | None = None
) -> Path:
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    (path / "config.toml").write_text(image_config(seed, description))
    rows = []
    for step in range(10, STEPS + 1, 10):
        row = {
            "step": step,
            "d_loss": 1.2 + 0.1 * rng.normal(),
            "g_loss": 0.8,
            "d_real": 0.6,
            "d_fake": 0.4,
            "grad_norm_d": 0.5,
            "grad_norm_g": 0.3,
            "lr_d": 2e-4,
            "lr_g": 2e-4,
            "time": step / 100,
        }
        if step % EVAL_EVERY == 0:
            row.update(eval_metrics(rng, step))
        rows.append(json.dumps(row))
    (path / "metrics.jsonl").write_text("\n".join(rows) + "\n")
    (path / "samples").mkdir()
    (path / "snapshots").mkdir()
    for step in range(GRID_EVERY, STEPS + 1, GRID_EVERY):
        batch = images(rng, GRID)
        _, c, h, w = batch.shape  # a 4 x 4 grid, row by row
        grid = batch.reshape(4, 4, c, h, w).transpose(0, 3, 1, 4, 2).reshape(4 * h, 4 * w, c)
        Image.fromarray(grid[..., 0] if c == 1 else grid).save(
            path / "samples" / f"step-{step}.png"
        )
        np.savez_compressed(
            path / "snapshots" / f"step-{step}.npz",
            samples=batch,
            classes=rng.integers(0, K, GRID).astype(np.int64),
        )
    final = {"step": STEPS, "samples": 1000, **eval_metrics(rng, STEPS)}
    final.update(
        {
            f"one_nn_accuracy_{S}": 0.62,
            f"nn_train_distance_{S}": 1.8,
            f"nn_heldout_distance_{S}": 2.0,
            f"nn_ratio_{S}": 0.9,
        }
    )
    (path / "final_metrics.json").write_text(json.dumps(final))
    np.savez_compressed(
        path / "nearest.npz",
        generated=images(rng, 16),
        nearest_train=images(rng, 16),
        distances=rng.uniform(1, 3, 16),
        real=images(rng, 64),
    )
    (path / "diagnosis.json").write_text(json.dumps(diagnosis or {"failures": []}))
    return path
