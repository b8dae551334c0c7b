"""What FID_digits reads for samplers that already know the training images: the scale against
which the `digits` preset's FID (README, "Images") is judged.

Every number is FID in the shipped digits feature space against the fixed held-out split (297
images), at the preset's final sample size (1,500), from the preset's own evaluator:

- ``floor``: the 1,500 training images themselves (the preset's real floor, ``fid_floor_digits``);
- ``iid``: 1,500 drawn from them with replacement, ``--draws`` times: a generator that has learnt
  the training set exactly and samples it independently; it pays duplicates (about 63 % of the
  images are distinct) and the class shares' multinomial noise;
- ``stratified``: the same, but each class drawn with replacement in exactly its training count:
  the duplicates without the class noise, so ``iid - stratified`` is what the multinomial class
  shares alone cost.

A generator's ``fid_mean_digits`` (the mean over ``log.final_draws`` draws) is read between the
floor and ``iid``. No training: a few CPU seconds.

    python benchmarks/digits_fid_scale.py [--draws 100] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np
import torch

from gankit import config as config_mod
from gankit.data.sources import build_data
from gankit.eval import evaluator_for

SEED = 20261129


def fid_scale(draws: int) -> dict:
    """``{"floor", "iid_mean", "iid_std", "stratified_mean", "stratified_std", ...}``."""
    config = config_mod.resolve(preset="digits")
    data = build_data(config)
    evaluator = evaluator_for(config, data)
    features = evaluator.train_features
    labels = data.train.labels
    n = len(features)
    rng = np.random.default_rng(SEED)
    iid = [evaluator.fid(features[rng.integers(0, n, n)]) for _ in range(draws)]
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]

    def stratified() -> np.ndarray:
        return np.concatenate([rng.choice(index, len(index)) for index in by_class])

    strat = [evaluator.fid(features[stratified()]) for _ in range(draws)]
    return {
        "samples": n,
        "heldout": len(data.heldout),
        "draws": draws,
        "floor": evaluator.floor(n),
        "iid_mean": float(np.mean(iid)),
        "iid_std": float(np.std(iid, ddof=1)),
        "stratified_mean": float(np.mean(strat)),
        "stratified_std": float(np.std(strat, ddof=1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = fid_scale(args.draws)
    f = out["floor"]
    print(f"FID_digits at {out['samples']} images against the {out['heldout']} held out")
    print(f"  floor (the training images)          {f:6.2f}   1.00x")
    for key, label in (("iid", "iid resamples"), ("stratified", "class-stratified resamples")):
        mean, std = out[f"{key}_mean"], out[f"{key}_std"]
        print(f"  {label:<36} {mean:6.2f} +- {std:.2f}   {mean / f:.2f}x")
    if args.json:
        out["date"] = datetime.date.today().isoformat()
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
