"""AdaGAN's rounds on disk: the sub-run of each round, the pool, ``mixture.json``.

Run directory of a boosted run::

    RUN/config.toml             the resolved config (game.boost_rounds = T)
    RUN/metrics.jsonl           one line per finished round: round, beta, the mixture's toy metrics
    RUN/mixture.json            finished rounds and mixture weights (a round's commit point)
    RUN/snapshots/step-N.npz    the mixture's samples after each round (N = t * train.steps)
    RUN/rounds/round-t/         an ordinary sub-run of G_t: config.toml (boost_rounds = 0, its own
                                seed), metrics.jsonl, checkpoints/, snapshots/, plus
                                pool_weights.safetensors (the weights it trained on) and
                                classifier.safetensors (C_t: pool vs the mixture of rounds 1..t)
    RUN/final_metrics.json, diagnosis.json, report.html, *.png   of the mixture, as for any run
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from gankit import runs
from gankit.config import Config
from gankit.errors import GankitError

#: Size N of the training pool. The paper's AdaGAN reweights a *finite* sample; 20,000 points give
#: ring-8 2,500 points per mode, so that a round whose weights sit on one or two missed modes still
#: trains on thousands of distinct points (no memorisation of a handful), while the whole pool
#: is classified in one pass in milliseconds. A 3,000-step round with batches of 256 sees each
#: point about 38 times, as a GAN on a finite dataset would.
POOL_SIZE = 20_000
#: Round t trains with ``train.seed + ROUND_SEED_STRIDE * (t - 1)``: fresh weights and streams.
ROUND_SEED_STRIDE = 1000
POOL_SEED_OFFSET = 15_485_863

ROUNDS = "rounds"
MIXTURE = "mixture.json"
POOL_WEIGHTS = "pool_weights.safetensors"
CLASSIFIER = "classifier.safetensors"
FORMAT = "gankit-adagan-1"


def check_config(config: Config) -> None:
    """Refuse what boosting cannot be combined with (before anything is written)."""
    if config.game.boost_rounds > 0 and config.model.generators > 1:
        raise GankitError(
            f"game.boost_rounds = {config.game.boost_rounds}: AdaGAN adds one generator per round "
            f"and cannot be combined with model.generators = {config.model.generators} "
            "(set one of them back)"
        )
    if config.game.boost_rounds > 0 and config.data.train_size > 0:
        raise GankitError(
            f"data.train_size = {config.data.train_size}: AdaGAN trains each round on its own "
            f"reweighted pool of {POOL_SIZE} points; leave data.train_size at 0"
        )


def round_dir(run: Path, t: int) -> Path:
    return Path(run) / ROUNDS / f"round-{t}"


def round_config(config: Config, t: int) -> Config:
    """The sub-run of round t: an ordinary run (boost_rounds = 0) with its own seed."""
    seed = config.train.seed + ROUND_SEED_STRIDE * (t - 1)
    return dataclasses.replace(
        config,
        description=f"AdaGAN round {t} of {config.game.boost_rounds}: one component, trained on "
        f"the reweighted pool of {POOL_SIZE} points",
        game=dataclasses.replace(config.game, boost_rounds=0),
        train=dataclasses.replace(config.train, seed=seed),
    )


def draw_pool(distribution, seed: int, n: int = POOL_SIZE) -> torch.Tensor:
    """The training pool: ``(n, dim)`` points of the toy, drawn once from their own stream."""
    return distribution.sample(n, torch.Generator().manual_seed(seed + POOL_SEED_OFFSET)).float()


def pool_stats(weights: torch.Tensor) -> dict[str, float]:
    """How far the round's pool weights are from uniform: effective sample size / N (1 =
    uniform) and the fraction of points with nonzero weight."""
    n = weights.numel()
    return {
        "pool_ess": float(1.0 / (n * (weights**2).sum())),
        "pool_support": float((weights > 0).double().mean()),
    }


def read_mixture(run: Path) -> dict:
    """``RUN/mixture.json``: the finished rounds (empty before the first)."""
    path = Path(run) / MIXTURE
    if not path.is_file():
        return {"format": FORMAT, "pool_size": POOL_SIZE, "rounds": [], "weights": []}
    try:
        state = json.loads(path.read_text())
        if state.get("format") != FORMAT or not isinstance(state.get("rounds"), list):
            raise ValueError("unknown format")
        return state
    except ValueError as exc:
        raise GankitError(f"{path}: not a readable AdaGAN mixture ({exc})") from None


def write_mixture(run: Path, state: dict) -> None:
    runs.atomic_write_text(Path(run) / MIXTURE, json.dumps(state, indent=2) + "\n")


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    runs.atomic_write_bytes(path, save_tensors(tensors, metadata={"format": FORMAT}))


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_tensors(Path(path).read_bytes())
    except Exception as exc:  # safetensors raises several types on a damaged file
        raise GankitError(f"{path}: not readable ({exc})") from None
