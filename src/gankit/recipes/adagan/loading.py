"""A boosted run loaded back: the mixture of its finished rounds, and the last round's ratio
classifier standing in for D (data against the whole mixture)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from gankit import config as config_mod
from gankit import runs
from gankit.config import Config
from gankit.data.sources import build_data
from gankit.errors import GankitError
from gankit.game.adagan import mixture_weights
from gankit.nets.boosted import BoostedMixture
from gankit.recipes.adagan.ratio import ratio_classifier
from gankit.recipes.adagan.rounds import CLASSIFIER, ROUNDS, read_mixture, read_tensors, round_dir
from gankit.recipes.base import LoadedRun, check_sample_count
from gankit.recipes.gan import load_players


def load_round(run: Path, t: int, config: Config, distribution) -> tuple[nn.Module, nn.Module, int]:
    """(G_t for sampling -- its EMA where kept --, D_t, step) from round t's newest checkpoint."""
    sub = round_dir(run, t)
    sub_config = config_mod.resolve(config_file=sub / runs.CONFIG)
    return load_players(sub, sub_config, distribution)


def mixture_of(components: list[nn.Module], betas: list[float], config: Config) -> BoostedMixture:
    """The mixture of ``components`` with the weights that the rounds' ``betas`` give."""
    weights = mixture_weights(betas)
    return BoostedMixture(components, weights, config.model.noise_dim, config.model.noise)


def mixture_sampler(mixture: BoostedMixture, device):
    """``sample(n, generator)`` of the mixture, as an evaluator reads it."""

    def sample(n: int, rng: torch.Generator) -> torch.Tensor:
        return mixture.sample(n, rng, device)

    return sample


@dataclass
class BoostedRun(LoadedRun):
    """A boosted run: ``generator`` is a `BoostedMixture`, sampled with its own component
    draws; ``discriminator`` is the last round's logistic ratio classifier."""

    @property
    def readout_loss(self) -> str:
        return "nonsaturating"  # the classifier's logit, read as a probability

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> torch.Tensor:
        """``(n, dim)`` float32 samples of the mixture, reproducible from ``seed`` (a mixture
        of toy generators: no classes to ask for, ``label`` is refused)."""
        check_sample_count(n)
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path} is an AdaGAN mixture of toy "
                "generators, which draw no classes"
            )
        return self.generator.sample(n, torch.Generator().manual_seed(seed))


def load_boosted(path: Path, config: Config) -> BoostedRun:
    """The loaded run of a boosted run directory (its finished rounds)."""
    path = Path(path)
    data = build_data(config)
    state = read_mixture(path)
    if not state["rounds"]:
        raise GankitError(
            f"{path}: no checkpoint of a finished AdaGAN round in {path / ROUNDS} "
            "(was the run started?)"
        )
    components, step = [], 0
    for entry in state["rounds"]:
        g, _, s = load_round(path, entry["round"], config, data.distribution)
        components.append(g)
        step += s
    mixture = mixture_of(components, [r["beta"] for r in state["rounds"]], config).eval()
    clf = ratio_classifier(config, data.dim)
    clf.load_state_dict(read_tensors(round_dir(path, state["rounds"][-1]["round"]) / CLASSIFIER))
    return BoostedRun(path, config, data, mixture, clf.eval(), step)
