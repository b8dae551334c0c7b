"""The VAE family (Kingma & Welling 2014): an encoder and a decoder trained on the ELBO by the
same loop, run directory, evaluation, report and guarantees as the GANs.

Points (the toys) get an MLP VAE with a Gaussian decoder in standard units fitted to the data;
images a convolutional one (Gaussian or Bernoulli decoder, ``vae.likelihood``). Samples are
the decoder's mean at ``z ~ N(0, I)`` (`gankit.nets.vae.VAE.sample`). The keys of ``[vae]``
live with this recipe (`gankit.recipes.vae.config`); the GAN's keys (``game.*``, ``model.*``
but ``model.family``, ``optim.lr_d``/``lr_g``, ``train.precision``/``channels_last``) mean
nothing here and are refused, naming the key, when set away from their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from gankit import runs
from gankit.config import Config, changed_settings
from gankit.data.sources import data_for_model
from gankit.errors import GankitError
from gankit.game.iwae import vae_importance_weighted_bound
from gankit.nets.vae import VAE, build_vae
from gankit.recipes.base import GAN_SETTINGS, LoadedRun, TrainOptions, check_sample_count
from gankit.recipes.fit_set import heldout_points
from gankit.recipes.training import train_run
from gankit.recipes.vae.config import VaeConfig
from gankit.recipes.vae.step import VaeTrainable, vae_samples

#: points drawn (seeded by ``train.seed``) to fit a toy VAE's standard units
STANDARDIZE_SAMPLES = 50_000
#: settings of other families, refused for a VAE where set (a prefix ends with ".")
NOT_FOR_A_VAE = GAN_SETTINGS


def check_vae_config(config: Config) -> None:
    """Refuse, naming the key, a setting that means nothing for a VAE (see `NOT_FOR_A_VAE`)."""
    for key, value in changed_settings(config, NOT_FOR_A_VAE):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = 'vae' (its own keys are "
            "vae.*: latent_dim, width, depth, activation, likelihood, lr, kl_weight, kl_warmup, "
            "iwae_samples, iwae_examples); "
            f"leave {key} at its default"
        )


def build_vae_for(config: Config, data) -> VAE:
    """The VAE of ``config`` for ``data``: convolutional for images, an MLP with standard
    units fitted to the toy's points (seeded by ``train.seed``) otherwise."""
    s: VaeConfig = config.section("vae")
    images = getattr(data, "kind", "toy") == "images"
    vae = build_vae(
        "conv" if images else "mlp",
        tuple(data.shape) if images else data.dim,
        latent_dim=s.latent_dim,
        width=s.width,
        depth=s.depth,
        likelihood=s.likelihood,
        activation=s.activation,
    )
    if not images:
        rng = torch.Generator().manual_seed(config.train.seed + 104729)
        vae.standardize.fit(data.sample(STANDARDIZE_SAMPLES, rng).float())
    return vae


@dataclass
class VaeRun(LoadedRun):
    """A trained VAE loaded back: ``generator`` is the VAE (sampled from its prior); it has no
    discriminator and no classes to ask for."""

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        check_sample_count(n)
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path} is a VAE, which is not class-conditional"
            )
        return vae_samples(self.generator, n, torch.Generator().manual_seed(seed))

    def family_metrics(self) -> dict[str, float]:
        """With ``vae.iwae_samples = K`` > 0: ``iwae_k1`` and ``iwae_kK``, the mean
        importance-weighted bound (`gankit.game.iwae`) of ``vae.iwae_examples`` held-out
        examples, nats per example (codes drawn with a fixed seed)."""
        s: VaeConfig = self.config.section("vae")
        if s.iwae_samples < 1:
            return {}
        return iwae_metrics(self.generator, self.data, s.iwae_samples, s.iwae_examples)


#: the seed of the codes an importance-weighted bound draws
IWAE_SEED = 0


def iwae_metrics(vae: VAE, data, k: int, examples: int) -> dict[str, float]:
    """``{"iwae_k1": ..., "iwae_k{k}": ...}``: the mean bound of the first ``examples``
    held-out examples (a toy's fixed held-out draws), nats per example."""
    x = heldout_points(data, examples)[:examples]
    out = {}
    for samples in sorted({1, k}):
        rng = torch.Generator().manual_seed(IWAE_SEED)
        bound = vae_importance_weighted_bound(vae, x, samples, rng)
        out[f"iwae_k{samples}"] = float(bound.double().mean())
    return out


class VaeRecipe:
    """A VAE (see the module docstring)."""

    name = "vae"
    #: what a resumed run cannot change: the nets' shapes and the data and streams they follow
    frozen_on_resume = (
        "data.",
        "train.seed",
        "optim.name",
        "vae.latent_dim",
        "vae.width",
        "vae.depth",
        "vae.activation",
        "vae.likelihood",
    )

    def check(self, config: Config) -> None:
        check_vae_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train the VAE in ``options.out`` (`gankit.recipes.training.train_run`; its refusals
        came first, in `gankit.recipes.check_config`)."""

        def prepare(data, device):
            vae = build_vae_for(config, data)
            return lambda: VaeTrainable(config, data.source, vae, device)

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's VAE from its newest intact checkpoint, in eval mode on the CPU; an image
        run's data is read only when its evaluation asks for it."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        vae = build_vae_for(config, data)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            runs.restore(tensors, {}, {"vae": vae}, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        return VaeRun(Path(path), config, data, vae.eval(), None, step)


__all__ = ["VaeRecipe", "VaeRun", "build_vae_for", "iwae_metrics"]
