"""AdaGAN's density ratio: a fresh classifier of the pool against the current mixture, whose
logit estimates ``log p_data / p_model`` (Tolstikhin et al. 2017, Section 3.1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import Config
from gankit.data.weighted import WeightedPool
from gankit.nets.boosted import BoostedMixture
from gankit.nets.mlp import discriminator_mlp
from gankit.train.optim import make_optimizer

#: Steps of the per-round density-ratio classifier (at most ``train.steps``, so tiny debug runs
#: stay tiny), with D's architecture, Adam at ``optim.lr_d``, batches of ``train.batch_size``.
CLASSIFIER_STEPS = 1000
CLASSIFIER_SEED_OFFSET = 32_452_843


def ratio_classifier(config: Config, dim: int) -> nn.Module:
    """An untrained classifier with D's width, depth and activation, scoring single points."""
    m = config.model
    return discriminator_mlp(dim, m.d_width, m.d_depth, m.activation)


def fit_ratio_classifier(
    config: Config,
    pool: torch.Tensor,
    mixture: BoostedMixture,
    seed: int,
    device: torch.device,
    steps: int | None = None,
) -> nn.Module:
    """A fresh classifier of the pool (uniformly, label 1) against the mixture (label 0), trained
    with the logistic loss, as the paper does each round. Returns it in eval mode.

    Why fresh rather than the round's own D: that D separated the *reweighted* pool from G_t
    alone, not the data from the whole mixture, and under the hinge or Wasserstein losses its
    output is no log density ratio at all. It has D's width, depth and activation but is a plain
    per-sample MLP (packing, minibatch features or moment inputs would not give a ratio per point).
    """
    torch.manual_seed(seed + CLASSIFIER_SEED_OFFSET)
    clf = ratio_classifier(config, pool.shape[1])
    if config.model.standardize:
        clf.standardize.fit(pool)
    clf = clf.to(device).train()
    opt = make_optimizer(clf.parameters(), config.optim.lr_d, config.optim)
    rng = torch.Generator(device=device).manual_seed(seed + CLASSIFIER_SEED_OFFSET)
    source = WeightedPool(pool)
    batch = config.train.batch_size
    steps = steps if steps is not None else max(1, min(CLASSIFIER_STEPS, config.train.steps))
    for _ in range(steps):
        real = source.sample(batch, rng).to(device)
        fake = mixture.sample(batch, rng, device).to(device)
        lr, lf = clf(real).reshape(-1), clf(fake).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(
            lr, torch.ones_like(lr)
        ) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return clf.eval()


@torch.no_grad()
def classifier_logits(clf: nn.Module, points: torch.Tensor, device, batch: int = 65536):
    """``(N,)`` float32 CPU logits of ``clf`` on ``points``."""
    return torch.cat(
        [
            clf(points[i : i + batch].to(device)).float().reshape(-1).cpu()
            for i in range(0, len(points), batch)
        ]
    )
