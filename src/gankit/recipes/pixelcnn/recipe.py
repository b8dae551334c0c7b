"""The PixelCNN family (van den Oord et al. 2016): an autoregressive model of binarised
single-channel images with an exact log-likelihood, trained by maximum likelihood on the same
loop, run directory, evaluation and report as the GANs.

Samples are drawn pixel by pixel (H * W passes of the net, `gankit.game.autoregressive`), so
a preset keeps its evaluation sample counts small. A sample is, by ``pixelcnn.samples``, the
bits drawn (``bits``, the default) or each pixel's probability given the bits drawn before it
(``means``: a grey image, as a VAE's decoder mean), mapped to [-1, 1]. Each evaluation adds
``heldout_nll_nats`` and ``heldout_bits_per_dim``; the final metrics ``nll_nats`` and
``bits_per_dim`` on the held-out split binarised once. The GAN's keys mean nothing here and
are refused, naming the key (`NOT_FOR_A_PIXELCNN`); toy data and colour images too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from gankit import runs
from gankit.config import Config, changed_settings
from gankit.data.sources import data_for_model, data_kind
from gankit.errors import GankitError
from gankit.nets.pixelcnn import PixelCNN, build_pixelcnn
from gankit.recipes.base import GAN_SETTINGS, LoadedRun, TrainOptions, check_sample_count
from gankit.recipes.pixelcnn.config import PixelCnnConfig
from gankit.recipes.pixelcnn.step import (
    PixelCnnTrainable,
    heldout_bits,
    heldout_metrics,
    log_likelihoods,
    pixelcnn_samples,
)
from gankit.recipes.training import train_run

#: settings of other families, refused for a PixelCNN where set (a prefix ends with ".")
NOT_FOR_A_PIXELCNN = GAN_SETTINGS


def check_pixelcnn_config(config: Config) -> None:
    """Refuse, naming the key, a setting that means nothing for a PixelCNN (see
    `NOT_FOR_A_PIXELCNN`), an even first kernel, toy data and colour channels."""
    for key, value in changed_settings(config, NOT_FOR_A_PIXELCNN):
        raise GankitError(
            f"{key} = {value!r} means nothing for model.family = 'pixelcnn' (its own keys are "
            "pixelcnn.*: channels, layers, kernel, binarize, lr, samples); "
            f"leave {key} at its default"
        )
    s: PixelCnnConfig = config.section("pixelcnn")
    if s.kernel % 2 == 0:
        raise GankitError(
            f"pixelcnn.kernel = {s.kernel}: a masked convolution is centred on its pixel, so "
            "its side must be odd (3, 5, 7, ...)"
        )
    if data_kind(config.data) != "images":
        raise GankitError(
            f"data.name = {config.data.name!r} is toy data; model.family = 'pixelcnn' models "
            "binarised images (digits, mnist, ...)"
        )
    if config.data.channels == 3:
        raise GankitError(
            "data.channels = 3: this PixelCNN models single-channel images (no colour channel "
            "masks); use data.channels = 1"
        )


def check_single_channel(config: Config, shape) -> None:
    """Refuse, naming ``data.channels``, images of more than one channel (colour data
    stored so)."""
    if int(shape[0]) != 1:
        raise GankitError(
            f"data.channels: {config.data.name} images have {shape[0]} channels; this PixelCNN "
            "models single-channel images (no colour channel masks); set data.channels = 1"
        )


def build_pixelcnn_for(config: Config, data) -> PixelCNN:
    """The PixelCNN of ``config``'s ``[pixelcnn]`` for ``data``'s single-channel images."""
    check_single_channel(config, data.shape)
    s: PixelCnnConfig = config.section("pixelcnn")
    return build_pixelcnn(tuple(data.shape), s.channels, s.layers, s.kernel)


@dataclass
class PixelCnnRun(LoadedRun):
    """A trained PixelCNN loaded back: ``generator`` is the net (sampled pixel by pixel); it
    has no discriminator and no classes to ask for. ``log_prob`` scores {0, 1} images."""

    _heldout: Tensor | None = field(default=None, repr=False)

    @property
    def section(self) -> PixelCnnConfig:
        return self.config.section("pixelcnn")

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> Tensor:
        check_sample_count(n)
        if label is not None:
            raise GankitError(
                f"--class {label}: {self.path} is a PixelCNN, which is not class-conditional"
            )
        rng = torch.Generator().manual_seed(seed)
        return pixelcnn_samples(self.generator, n, rng, self.section.samples)

    def heldout_bits(self) -> Tensor:
        """The held-out split's one binarisation (read once, then kept)."""
        if self._heldout is None:
            self._heldout = heldout_bits(self.data.heldout.images, self.section.binarize)
        return self._heldout

    def log_prob(self, bits: Tensor) -> Tensor:
        """``(N,)`` float64: the exact log p(x) in nats of {0, 1} images ``bits`` ``(N, 1, H,
        W)`` of the run's shape (binarise images first: `gankit.data.binarize`)."""
        bits = torch.as_tensor(bits, dtype=torch.float32)
        if tuple(bits.shape[1:]) != tuple(self.data.shape) or bits.ndim != 4:
            shape = "x".join(map(str, self.data.shape))
            raise GankitError(
                f"{self.path} models images of shape {shape}, got {tuple(bits.shape)}"
            )
        if not bool(((bits == 0) | (bits == 1)).all()):
            raise GankitError(f"{self.path} scores binary images: every pixel must be 0 or 1")
        return log_likelihoods(self.generator, bits)

    def family_metrics(self) -> dict[str, float]:
        """``nll_nats`` and ``bits_per_dim``: the exact held-out negative log-likelihood."""
        return heldout_metrics(self.generator, self.heldout_bits(), prefix="")


class PixelCnnRecipe:
    """PixelCNN (see the module docstring)."""

    name = "pixelcnn"
    #: what a resumed run cannot change: the net's shape and the data and streams it follows
    frozen_on_resume = (
        "data.",
        "train.seed",
        "optim.name",
        "pixelcnn.channels",
        "pixelcnn.layers",
        "pixelcnn.kernel",
        "pixelcnn.binarize",
    )

    def check(self, config: Config) -> None:
        check_pixelcnn_config(config)

    def train(self, config: Config, options: TrainOptions) -> Path:
        """Train the PixelCNN in ``options.out`` (`gankit.recipes.training.train_run`)."""
        section: PixelCnnConfig = config.section("pixelcnn")

        def prepare(data, device):
            net = build_pixelcnn_for(config, data)
            heldout = None
            if config.log.eval_every > 0:
                heldout = heldout_bits(data.heldout.images, section.binarize)
            return lambda: PixelCnnTrainable(config, data.source, net, device, heldout)

        return train_run(config, options, prepare, self.load)

    def load(self, path: Path, config: Config) -> LoadedRun:
        """The run's PixelCNN from its newest intact checkpoint, in eval mode on the CPU; its
        data is read only when an evaluation asks for it."""
        data = data_for_model(config, runs.checkpoint_inputs(path))
        net = build_pixelcnn_for(config, data)

        def apply(source: Path, tensors: dict, extra: dict) -> None:
            runs.restore(tensors, {}, {"pixelcnn": net}, {}, {}, source=source)

        step, _ = runs.restore_newest(path, apply)
        return PixelCnnRun(Path(path), config, data, net.eval(), None, step)


__all__ = [
    "NOT_FOR_A_PIXELCNN",
    "PixelCnnRecipe",
    "PixelCnnRun",
    "build_pixelcnn_for",
    "check_pixelcnn_config",
]
