"""What the classical families (``pca``, ``gmm``, ``autoencoder``) fit to and are scored on,
and their shared refusals.

* The fit set (`training_points`): an image dataset's whole training split, in the nets' [-1, 1]
  (read once); a toy's finite training set (``data.train_size``) whole; otherwise ``count``
  points drawn once from the toy with a seed derived from ``train.seed`` (never a training
  stream), so that a resumed run rebuilds the same set.
* The held-out set (`heldout_points`): the image dataset's held-out split; for a toy, ``count``
  fresh points drawn with the fixed `HELDOUT_SEED` (the same for every run and seed, as the
  held-out images are).
* `heldout_log_likelihood`: ``log_likelihood``, the mean exact ``log p(x)`` of the held-out set
  in nats per example (images: a density over the D values in [-1, 1], the units of the VAE's
  Gaussian decoder); for a toy also ``data_log_likelihood``, the toy's own exact density at the
  same points (the ceiling: minus its entropy, estimated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gankit.config import Config, changed_settings
from gankit.data.checks import to_net
from gankit.errors import GankitError
from gankit.recipes.base import GAN_SETTINGS, LoadedRun, check_sample_count

#: the seed of a toy's held-out points (fixed: every run is scored on the same points)
HELDOUT_SEED = 2_147_483_629
#: added to ``train.seed`` for the seed of a toy's fit set drawn once
FIT_SEED_OFFSET = 15_485_863
#: what a closed-form or EM family refuses besides: it has no minibatch and no optimizer to tune
#: (its phase is SGD at rate 1 onto the fitted parameters, `gankit.recipes.pca.step`)
NO_OPTIMIZER_SETTINGS = ("optim.", "train.batch_size")


def refuse_settings(config: Config, keys: tuple[str, ...], family: str, own: str) -> None:
    """`GankitError` naming the first key of ``keys`` set away from its default: it means
    nothing for ``model.family = family``, whose own keys are ``own``."""
    for key, value in changed_settings(config, keys):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = '{family}' (its own keys are "
            f"{own}); leave {key} at its default"
        )


def is_images(data) -> bool:
    return getattr(data, "kind", "toy") == "images"


def training_points(data, count: int, seed: int) -> Tensor:
    """The fit set (see the module docstring): ``(N, *shape)`` float32 on the CPU."""
    if is_images(data):
        return to_net(data.train.images)
    points = getattr(data.source, "points", None)
    if points is not None:
        return points.float()
    return data.sample(count, torch.Generator().manual_seed(seed + FIT_SEED_OFFSET)).float()


def heldout_points(data, count: int) -> Tensor:
    """The held-out set (see the module docstring): ``(N, *shape)`` float32 on the CPU."""
    if is_images(data):
        return to_net(data.heldout.images)
    return data.sample(count, torch.Generator().manual_seed(HELDOUT_SEED)).float()


def heldout_log_likelihood(
    log_prob: Callable[[Tensor], Tensor], data, count: int
) -> dict[str, float]:
    """``{"log_likelihood": ...}`` (and a toy's ``data_log_likelihood``): mean ``log_prob`` of
    the held-out set, nats per example (see the module docstring)."""
    x = heldout_points(data, count)
    out = {"log_likelihood": float(log_prob(x).double().mean())}
    if not is_images(data):
        out["data_log_likelihood"] = float(data.distribution.log_prob(x).double().mean())
    return out


@dataclass
class SamplerRun(LoadedRun):
    """A trained classical model loaded back: ``generator`` is the model (its
    ``sample(n, generator)``; PCA and the mixture also ``log_prob``); no discriminator, no
    classes. ``heldout_count``: the toy held-out points its final ``log_likelihood`` reads."""

    heldout_count: int = 10_000

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        check_sample_count(n)
        if label is not None:
            family = self.config.model.family
            raise GankitError(
                f"--class {label}: {self.path} is a {family} model, which is not class-conditional"
            )
        return self.generator.sample(n, torch.Generator().manual_seed(seed)).float().cpu()

    def family_metrics(self) -> dict[str, float]:
        """The held-out ``log_likelihood`` where the model has an exact one (PCA, GMM)."""
        log_prob = getattr(self.generator, "log_prob", None)
        if log_prob is None:
            return {}
        return heldout_log_likelihood(log_prob, self.data, self.heldout_count)


__all__ = [
    "GAN_SETTINGS",
    "SamplerRun",
    "HELDOUT_SEED",
    "NO_OPTIMIZER_SETTINGS",
    "heldout_log_likelihood",
    "heldout_points",
    "is_images",
    "refuse_settings",
    "training_points",
]
