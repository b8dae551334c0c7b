"""AdaGAN's rounds (Tolstikhin et al. 2017): train T generators in sequence, each an ordinary GAN
run on the pool reweighted towards what the mixture so far misses.

Round 1 trains on the pool uniformly. After round t a fresh classifier separates the pool from
the mixture of rounds 1..t (`gankit.recipes.adagan.ratio`); its density ratios give the next
round's weights (`gankit.game.adagan.data_weights`, beta = 1/(t+1)). ``mixture.json`` is each
round's commit point: ``--resume`` continues at the first unfinished round, from its newest
checkpoint where it has one.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit import config as config_mod
from gankit import runs
from gankit.config import Config
from gankit.data.sources import build_data
from gankit.data.weighted import WeightedPool
from gankit.devices import pick_device
from gankit.diagnose import write_diagnosis
from gankit.errors import GankitError
from gankit.eval import EvalState, evaluator_for
from gankit.game.adagan import data_weights, density_ratio, mixture_weights, round_beta
from gankit.nets.boosted import BoostedMixture
from gankit.recipes.adagan.loading import load_boosted, load_round, mixture_of, mixture_sampler
from gankit.recipes.adagan.ratio import classifier_logits, fit_ratio_classifier
from gankit.recipes.adagan.rounds import (
    CLASSIFIER,
    POOL_WEIGHTS,
    check_config,
    draw_pool,
    pool_stats,
    read_mixture,
    read_tensors,
    round_config,
    round_dir,
    write_mixture,
    write_tensors,
)
from gankit.recipes.base import TrainOptions
from gankit.recipes.finish import finish, finish_diverged
from gankit.recipes.gan import GanTrainable, build_checked_models, build_models_for
from gankit.recipes.rundir import claim, diverged_error, record_resume
from gankit.recipes.training import loop_with_callbacks


def train_rounds(config: Config, options: TrainOptions) -> bool:
    """Train the rounds of a boosted run (``game.boost_rounds = T``) into ``options.out`` and,
    once every round is done, finish it (final metrics, diagnosis, report); returns whether
    every round is done.

    ``resume`` continues the run (``config`` is its stored one, with ``options.changes``) at
    its first unfinished round; ``stop_after`` stops after that many generator steps in all
    (rounds of ``train.steps`` each), as an interruption would, for tests. Validation happens
    before anything is written; the run directory is locked while it trains, as a GAN run's;
    a round that diverges raises `Diverged`, an interrupted one `Interrupted` (after its
    checkpoint)."""
    out, resume = Path(options.out), options.resume
    runs.check_out(out, resume, options.force)
    check_config(config)
    data = build_data(config)
    device = pick_device(config.train.device)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    if data.kind != "toy":
        raise GankitError(
            f"game.boost_rounds = {config.game.boost_rounds}: AdaGAN's rounds reweight a pool "
            f"of toy points; {config.data.name} is image data"
        )
    build_checked_models(round_config(config, 1), data)  # refusals before any write
    evaluator = evaluator_for(config, data, device)
    config_text = config_mod.dumps(config)
    with claim(options, config_text):
        done = _train_rounds(config, options, data, device, evaluator, config_text)
        if done:
            finish(load_boosted(out, config), options.progress)
    return done


def _train_rounds(config, options, data, device, evaluator, config_text) -> bool:
    out, resume, stop_after = Path(options.out), options.resume, options.stop_after
    total_rounds, steps = config.game.boost_rounds, config.train.steps
    pool = draw_pool(data.distribution, config.train.seed)
    state = read_mixture(out)
    state["pool_size"] = len(pool)
    done = len(state["rounds"])
    runs.truncate_metrics(out, done * steps)  # a row written after the last commit is redone
    if resume:
        record_resume(out, config_text, done * steps, options.changes)
    components = [
        load_round(out, t, config, data.distribution)[0].to(device) for t in range(1, done + 1)
    ]
    betas = [r["beta"] for r in state["rounds"]]

    for t in range(done + 1, total_rounds + 1):
        sub, sub_config = round_dir(out, t), round_config(config, t)
        budget = None if stop_after is None else stop_after - (t - 1) * steps
        if budget is not None and budget <= 0:
            return False
        weights = _round_weights(out, t, config, pool, components, betas, device)
        source = WeightedPool(pool, weights)
        sub_resume = (sub / runs.CHECKPOINTS).is_dir() and any(
            (sub / runs.CHECKPOINTS).glob("step-*.safetensors")
        )
        if not sub_resume:
            runs.atomic_write_text(sub / runs.CONFIG, config_mod.dumps(sub_config))
            runs.atomic_write_text(sub / runs.METRICS, "")
        elif options.changes:  # --resume --set: the round continues with the new settings
            runs.atomic_write_text(sub / runs.CONFIG, config_mod.dumps(sub_config))
        torch.manual_seed(sub_config.train.seed)  # initial weights, as a GAN run's
        generator, discriminator = build_models_for(sub_config, source)

        gan = GanTrainable(sub_config, source, generator, discriminator, device)
        # the round's own evaluator: its evaluation streams follow the round's seed
        loop = loop_with_callbacks(
            sub_config, gan, data, sub, device, options.progress, options.on_log
        )
        if sub_resume:
            loop.resume()
        loop.fit(stop_after=budget)
        if loop.divergence is not None:
            row = {"step": (t - 1) * steps + loop.step, "round": t, "event": "diverged"}
            runs.append_metrics_row(out, {**row, "reason": loop.divergence.reason})
            write_diagnosis(sub)
            finish_diverged(out)
            raise diverged_error(out, loop.divergence, where=sub)
        if loop.step < steps:
            return False  # stopped early (stop_after): --resume continues here

        # The round is trained: add G_t, fit the ratio classifier against the new mixture.
        components.append(loop.trainable.sampler.eval())
        betas.append(round_beta(t))
        mixture = mixture_of(components, betas, config).to(device)
        clf = fit_ratio_classifier(config, pool, mixture, sub_config.train.seed, device)
        write_tensors(sub / CLASSIFIER, clf.state_dict())
        step = t * steps
        row = {"step": step, "round": t, "beta": betas[-1], "components": t}
        row.update(pool_stats(weights))
        if t < total_rounds:
            h = density_ratio(classifier_logits(clf, pool, device))
            nxt = data_weights(h, round_beta(t + 1))
            write_tensors(round_dir(out, t + 1) / POOL_WEIGHTS, {"weights": nxt})
        sample = mixture_sampler(mixture, device)
        row.update(evaluator(EvalState(sample, step)))
        evaluator.snapshot(EvalState(sample, step, clf, readout_loss="nonsaturating"), out)
        runs.append_metrics_row(out, row)
        if options.on_log is not None:
            options.on_log(row)
        state["rounds"].append(
            {"round": t, "beta": betas[-1], "steps": steps, "seed": sub_config.train.seed}
        )
        state["weights"] = mixture.weights.tolist()
        write_mixture(out, state)
        components = list(mixture.components)
    return True


def _round_weights(out, t, config, pool, components, betas, device) -> torch.Tensor:
    """Pool weights of round t: uniform for round 1; else stored when round t-1 finished, or
    recomputed (deterministically) from a fresh classifier against the mixture of rounds < t."""
    n = len(pool)
    if t == 1:
        return torch.full((n,), 1.0 / n, dtype=torch.float64)
    path = round_dir(out, t) / POOL_WEIGHTS
    if path.is_file():
        weights = read_tensors(path).get("weights")
        if weights is None or weights.shape != (n,):
            raise GankitError(f"{path}: expected {n} pool weights")
        return weights.double()
    mixture: BoostedMixture = mixture_of(components, betas, config).to(device)
    seed = round_config(config, t - 1).train.seed
    clf = fit_ratio_classifier(config, pool, mixture, seed, device)
    weights = data_weights(density_ratio(classifier_logits(clf, pool, device)), round_beta(t))
    write_tensors(path, {"weights": weights})
    return weights


__all__ = ["mixture_weights", "train_rounds"]
