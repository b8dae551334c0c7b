"""gankit's RBM against scikit-learn's `BernoulliRBM`, in the same run, on the digits.

Both train persistent CD-1 (scikit-learn's only algorithm) with the same hyper-parameters
(hidden units, learning rate, batch size, passes over the data) on the same bits: gankit's
fixed digits training split (1,500 images) thresholded at 1/2, scored on its held-out split
(297 images) thresholded alike. gankit runs its real training step (`RbmTrainable` on the one
`Loop`: the loop's SGD, its lr schedule, zeroed gradients, finiteness checks) with no run
directory (no evaluations or checkpoints: those are periodic I/O); scikit-learn its ``fit``.
Samples are drawn differently (scikit-learn walks the data in order each pass, gankit draws
minibatches with replacement), so the pseudo-likelihoods are compared as means over seeds.

Per setting: the median over ``--rounds`` rounds (the order alternates) of each side's fit
time and their ratio (target: gankit >= 2x faster), and the held-out pseudo-likelihood of
each side's model: the exact sum over the 64 bits (`gankit.game.rbm.pseudo_likelihood`, the
same function for both) and scikit-learn's own one-bit ``score_samples`` estimate (target:
gankit's no worse). Beside them, ``bare``: the same updates with no loop, optimizer or
checks (`fit_bare`), the floor eager PyTorch sets under gankit's time. Threads: both sides
limited to ``--threads`` (torch's intra-op threads;
numpy's BLAS through threadpoolctl).

    python benchmarks/rbm_vs_sklearn.py [--rounds 5] [--threads 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

from gankit.config import resolve
from gankit.data.datasets.digits import split_digits
from gankit.game import rbm as rbm_math
from gankit.nets.rbm import RBM
from gankit.recipes.rbm.step import BinaryImages, RbmTrainable
from gankit.train.loop import Loop

TARGET_SPEEDUP = 2.0
#: (name, hidden units, learning rate, batch size, passes): scikit-learn's example first
SETTINGS = (
    ("sklearn example", 100, 0.06, 10, 20),
    ("batch 100", 100, 0.06, 100, 20),
    ("500 hidden, batch 100", 500, 0.06, 100, 20),
)


def thresholded(images) -> np.ndarray:
    """``(N, 64)`` float64 bits of digits images in [0, 1] (on where > 1/2)."""
    return (np.asarray(images, np.float64).reshape(len(images), -1) > 0.5).astype(np.float64)


def fit_sklearn(x, hidden, lr, batch, passes, seed):
    model = BernoulliRBM(
        n_components=hidden, learning_rate=lr, batch_size=batch, n_iter=passes, random_state=seed
    )
    start = time.perf_counter()
    model.fit(x)
    seconds = time.perf_counter() - start
    params = (model.components_, model.intercept_visible_, model.intercept_hidden_)
    return seconds, model, tuple(torch.from_numpy(p) for p in params)


def fit_gankit(train_images, hidden, lr, batch, passes, seed):
    steps = passes * math.ceil(len(train_images) / batch)
    cfg = resolve(
        preset="rbm-digits",
        overrides=[
            f"rbm.hidden={hidden}",
            f"rbm.lr={lr}",
            "rbm.binarize=threshold",
            f"train.batch_size={batch}",
            f"train.steps={steps}",
            f"train.seed={seed}",
        ],
    )
    torch.manual_seed(seed)
    model = RBM((1, 8, 8), hidden)
    images = BinaryImages(train_images, "threshold")
    trainable = RbmTrainable(cfg, images, model, torch.device("cpu"), {})
    loop = Loop(trainable, steps, None, (), log_every=steps)
    start = time.perf_counter()
    loop.fit()
    seconds = time.perf_counter() - start
    return seconds, tuple(p.detach().double() for p in model.params)


def fit_bare(train_images, hidden, lr, batch, passes, seed):
    """The same persistent CD-1 updates with no loop, no optimizer and no checks: the family's
    math (`gankit.game.rbm.cd_estimate`) and an in-place SGD step, per update. What eager
    PyTorch can do at best at this size: the floor under gankit's time, not a way to train."""
    steps = passes * math.ceil(len(train_images) / batch)
    torch.manual_seed(seed)
    model = RBM((1, 8, 8), hidden)
    images = BinaryImages(train_images, "threshold")
    data_rng = torch.Generator().manual_seed(seed)
    chain_rng = torch.Generator().manual_seed(seed + 1)
    chains = torch.zeros(batch, hidden)
    W, b, c = (p.detach() for p in model.params)
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps):
            v = images.batch(batch, data_rng)
            grads, end = rbm_math.cd_estimate(v, W, b, c, 1, chain_rng, chains)
            for param, grad in zip((W, b, c), grads):
                param.add_(grad, alpha=lr)
            chains = end.h
    return time.perf_counter() - start


def heldout_scores(params, bits: torch.Tensor, sklearn_model: BernoulliRBM) -> tuple[float, float]:
    """(exact pseudo-likelihood, scikit-learn's one-bit estimate) means over ``bits``."""
    exact = float(rbm_math.pseudo_likelihood(bits, *params).mean())
    W, b, c = (p.numpy() for p in params)
    sklearn_model.components_, sklearn_model.intercept_visible_ = W, b
    sklearn_model.intercept_hidden_ = c
    sklearn_model.random_state = 0
    return exact, float(sklearn_model.score_samples(bits.numpy()).mean())


def run_setting(setting, train_images, train_bits, heldout_bits, rounds, threads):
    name, hidden, lr, batch, passes = setting
    times = {"gankit": [], "sklearn": [], "bare": []}
    scores = {"gankit": [], "sklearn": []}
    for r in range(rounds):
        order = ("gankit", "sklearn") if r % 2 == 0 else ("sklearn", "gankit")
        for side in order:
            with threadpool_limits(limits=threads):
                if side == "sklearn":
                    seconds, model, params = fit_sklearn(train_bits, hidden, lr, batch, passes, r)
                    scorer = model
                else:
                    seconds, params = fit_gankit(train_images, hidden, lr, batch, passes, r)
                    scorer = BernoulliRBM(n_components=hidden)
            times[side].append(seconds)
            scores[side].append(heldout_scores(params, heldout_bits, scorer))
        with threadpool_limits(limits=threads):
            times["bare"].append(fit_bare(train_images, hidden, lr, batch, passes, r))
    t_g, t_s = statistics.median(times["gankit"]), statistics.median(times["sklearn"])
    ratios = [s / g for g, s in zip(times["gankit"], times["sklearn"])]
    bare_ratios = [s / g for g, s in zip(times["bare"], times["sklearn"])]
    pl = {side: float(np.mean([s[0] for s in scores[side]])) for side in scores}
    pl_sk = {side: float(np.mean([s[1] for s in scores[side]])) for side in scores}
    pl_sd = {side: float(np.std([s[0] for s in scores[side]])) for side in scores}
    return {
        "setting": name,
        "hidden": hidden,
        "learning_rate": lr,
        "batch_size": batch,
        "passes": passes,
        "updates": passes * math.ceil(len(train_bits) / batch),
        "gankit_seconds": t_g,
        "sklearn_seconds": t_s,
        "speedup_median_of_rounds": statistics.median(ratios),
        "bare_seconds": statistics.median(times["bare"]),
        "bare_speedup_median_of_rounds": statistics.median(bare_ratios),
        "pseudo_likelihood_exact": pl,
        "pseudo_likelihood_exact_std": pl_sd,
        "pseudo_likelihood_sklearn_estimate": pl_sk,
        "rounds": rounds,
        "threads": threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="fits of each side per setting")
    parser.add_argument("--threads", type=int, default=1, help="threads of each side")
    parser.add_argument("--only", type=int, nargs="*", help="indices of SETTINGS to run")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, heldout = split_digits()
    train_bits = thresholded(train.images)
    heldout_bits = torch.from_numpy(thresholded(heldout.images))
    chosen = [SETTINGS[i] for i in args.only] if args.only else list(SETTINGS)
    results = []
    print(
        f"digits: {len(train_bits)} training, {len(heldout_bits)} held-out images thresholded; "
        f"persistent CD-1 on both sides; {args.threads} thread(s); median of {args.rounds} rounds"
    )
    head = (
        f"{'setting':<24}{'H':>5}{'batch':>6}{'updates':>8}{'gankit s':>10}{'sklearn s':>10}"
        f"{'speedup':>9}{'bare s':>8}{'bare x':>8}{'PL gankit':>11}{'PL sklearn':>11}"
        f"{'(1-bit est.)':>16}"
    )
    print(head)
    print("-" * len(head))
    for setting in chosen:
        res = run_setting(
            setting, train.images, train_bits, heldout_bits, args.rounds, args.threads
        )
        results.append(res)
        pl, est = res["pseudo_likelihood_exact"], res["pseudo_likelihood_sklearn_estimate"]
        print(
            f"{res['setting']:<24}{res['hidden']:>5}{res['batch_size']:>6}{res['updates']:>8}"
            f"{res['gankit_seconds']:>10.3f}{res['sklearn_seconds']:>10.3f}"
            f"{res['speedup_median_of_rounds']:>8.2f}x{res['bare_seconds']:>8.3f}"
            f"{res['bare_speedup_median_of_rounds']:>7.2f}x{pl['gankit']:>11.2f}{pl['sklearn']:>11.2f}"
            f"{est['gankit']:>8.2f} /{est['sklearn']:>6.2f}",
            flush=True,
        )
    print(
        f"speedup = scikit-learn's fit time / gankit's (target >= {TARGET_SPEEDUP:g}x); PL = mean "
        "held-out pseudo-likelihood, nats per image (exact sum over the bits; in brackets "
        "scikit-learn's one-bit estimate, gankit / scikit-learn), mean over the rounds' seeds "
        "(target: gankit's no worse); bare = the same updates with no loop or optimizer (the "
        "eager floor under gankit's time), its speedup over scikit-learn"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
