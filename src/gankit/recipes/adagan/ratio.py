"""AdaGAN's density ratio: a fresh classifier of the pool against the current mixture, whose
logit estimates ``log p_data / p_model`` (Tolstikhin et al. 2017, Section 3.1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import Config
from gankit.data.weighted import WeightedPool
from gankit.errors import GankitError
from gankit.nets.boosted import BoostedMixture
from gankit.nets.mlp import discriminator_mlp
from gankit.train.loop import Loop
from gankit.train.optim import make_optimizer
from gankit.train.trainable import SingleModelTrainable

#: Steps of the per-round density-ratio classifier (at most ``train.steps``, so tiny debug runs
#: stay tiny), with D's architecture, Adam at ``optim.lr_d``, batches of ``train.batch_size``.
CLASSIFIER_STEPS = 1000
CLASSIFIER_SEED_OFFSET = 32_452_843


def ratio_classifier(config: Config, dim: int) -> nn.Module:
    """An untrained classifier with D's width, depth and activation, scoring single points."""
    m = config.model
    return discriminator_mlp(dim, m.d_width, m.d_depth, m.activation)


class RatioStep(SingleModelTrainable):
    """The ratio classifier's side of the loop (`gankit.train.trainable.Trainable`): one phase,
    the logistic loss of a minibatch of the pool (uniformly, label 1) and one of the mixture
    (label 0), both drawn from one stream ``rng``, the pool's first."""

    def __init__(self, clf, opt, lr: float, source, mixture, rng, batch: int, device):
        super().__init__(clf, opt, lr, {"data": rng}, name="classifier", phase="classifier")
        self.clf, self.source, self.mixture = clf, source, mixture
        self.rng, self.batch, self.device = rng, batch, device

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, torch.Tensor]:
        real = self.source.sample(self.batch, self.rng).to(self.device)
        fake = self.mixture.sample(self.batch, self.rng, self.device).to(self.device)
        lr, lf = self.clf(real).reshape(-1), self.clf(fake).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(
            lr, torch.ones_like(lr)
        ) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
        loss.backward()
        return {"loss": loss.detach()}


def fit_ratio_classifier(
    config: Config,
    pool: torch.Tensor,
    mixture: BoostedMixture,
    seed: int,
    device: torch.device,
    steps: int | None = None,
) -> nn.Module:
    """A fresh classifier of the pool (uniformly, label 1) against the mixture (label 0), trained
    with the logistic loss (`RatioStep`, through `gankit.train.loop.Loop` without a run
    directory), as the paper does each round. Returns it in eval mode; a `GankitError` if its
    loss stops being finite.

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
    lr = config.optim.lr_d
    opt = make_optimizer(clf.parameters(), lr, config.optim)
    rng = torch.Generator(device=device).manual_seed(seed + CLASSIFIER_SEED_OFFSET)
    batch = config.train.batch_size
    steps = steps if steps is not None else max(1, min(CLASSIFIER_STEPS, config.train.steps))
    step = RatioStep(clf, opt, lr, WeightedPool(pool), mixture, rng, batch, device)
    device = torch.device(device)
    loop = Loop(step, steps, run_dir=None, log_every=steps, check_every_step=device.type == "cpu")
    loop.fit()
    if loop.divergence is not None:
        raise GankitError(
            f"AdaGAN's density-ratio classifier diverged at step {loop.step}: "
            f"{loop.divergence.reason}"
        )
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
