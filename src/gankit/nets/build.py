"""Build G and D from the model config (G's input: `gankit.nets.latent`)."""

from __future__ import annotations

import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets.conditional import ClassPrior
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nets.dirac import DiracDiscriminator, DiracGenerator, dirac_start
from gankit.nets.mixture import MixtureGenerator
from gankit.nets.mlp import Discriminator, generator_mlp
from gankit.nets.moments import MOMENTS_GROUP, MomentsDiscriminator

STANDARDIZE_SAMPLES = 10_000


def check_model(model: ModelConfig, identity_head: bool = False) -> None:
    """Refuse combinations of D's remedies that mean nothing, with `GankitError` naming the keys.

    A moments D sees no single sample, so packing and minibatch layers (which act on per-sample
    features) have nothing to act on; an identity head needs several generators, and a score per
    sample (not per pack, not per group) to say which generator made it."""
    if model.arch != "dcgan" and (model.g_fc or model.d_fc):
        key = "model.g_fc" if model.g_fc else "model.d_fc"
        raise GankitError(
            f"{key}: a fully-connected layer among DCGAN's convolutions; model.arch = "
            f"{model.arch!r} has none (its depth is model.g_depth / d_depth)"
        )
    if model.arch == "dirac":
        _check_dirac(model, identity_head)
        return
    if model.arch == "dcgan":
        _check_dcgan(model)
    moments = model.d_input == "moments"
    if moments and model.pack > 1:
        raise GankitError(
            "model.pack > 1 needs model.d_input = 'samples': a moments D sees no single samples "
            "to pack"
        )
    if moments and (model.minibatch_std or model.minibatch_kernels > 0):
        key = "model.minibatch_std" if model.minibatch_std else "model.minibatch_kernels"
        raise GankitError(
            f"{key} needs model.d_input = 'samples': a moments D has no per-sample features"
        )
    if identity_head:
        if model.generators < 2:
            raise GankitError("game.diversity > 0 needs model.generators > 1")
        if model.pack > 1:
            raise GankitError(
                "game.diversity > 0 needs model.pack = 1: a packed D has no per-sample "
                "identity to predict"
            )
        if moments:
            raise GankitError(
                "game.diversity > 0 needs model.d_input = 'samples': a moments D has no "
                "per-sample identity to predict"
            )


def _check_dirac(model: ModelConfig, identity_head: bool) -> None:
    """The Dirac-GAN's nets have one parameter each: no remedy of D's architecture fits them."""
    wrong = [
        key
        for key, on in (
            ("model.generators > 1", model.generators > 1),
            ("model.d_input = 'moments'", model.d_input == "moments"),
            ("model.pack > 1", model.pack > 1),
            ("model.minibatch_std", model.minibatch_std),
            ("model.minibatch_kernels > 0", model.minibatch_kernels > 0),
            ("model.spectral_norm", model.spectral_norm),
            ("game.diversity > 0", identity_head),
        )
        if on
    ]
    if wrong:
        raise GankitError(
            f"model.arch = 'dirac' has one parameter per player: {', '.join(wrong)} does not "
            "apply to it"
        )


def discriminator_remedies(model: ModelConfig, identity_head: bool) -> dict:
    """The switches of D's architecture, as every per-sample D takes them (MLP, DCGAN)."""
    return {
        "pack": model.pack,
        "minibatch_std": model.minibatch_std,
        "minibatch_kernels": model.minibatch_kernels,
        "minibatch_kernel_dim": model.minibatch_kernel_dim,
        "identity_classes": model.generators if identity_head else 0,
        "spectral_norm": model.spectral_norm,
    }


def _check_dcgan(model: ModelConfig) -> None:
    """DCGAN's nets are convolutional: the toy-only switches do not apply to them."""
    if model.d_input == "moments":
        raise GankitError(
            "model.d_input = 'moments' is the 1-D moments trap's D; model.arch = 'dcgan' "
            "judges images: use model.d_input = 'samples'"
        )
    if model.generators > 1:
        raise GankitError(
            f"model.generators = {model.generators}: the mixture of generators is built of "
            "MLPs (toys); model.arch = 'dcgan' has one generator"
        )
    if model.conditional and model.pack > 1:
        raise GankitError(
            f"model.pack = {model.pack}: a class-conditional D scores single images (a pack "
            "mixes classes); use model.pack = 1 with model.conditional"
        )


def dcgan_generator(
    model: ModelConfig, channels: int, size: int, class_prior: ClassPrior | None = None
) -> DCGANGenerator:
    """DCGAN's G from ``model.noise_dim`` to ``(channels, size, size)`` images: ``model.g_width``
    channels in its last hidden layer, ``model.g_depth`` extra 3x3 convolutions at each
    resolution, ``model.g_fc`` units of a fully-connected layer before its projection;
    class-conditional where ``class_prior`` is given. Every family with DCGAN's G builds it
    here, so each of these keys is read in one place."""
    return DCGANGenerator(
        model.noise_dim,
        channels,
        size,
        model.g_width,
        extra_layers=model.g_depth,
        class_prior=class_prior,
        hidden=model.g_fc,
    )


def build_image_models(
    model: ModelConfig,
    shape: tuple[int, int, int],
    *,
    identity_head: bool = False,
    class_prior: ClassPrior | None = None,
) -> tuple[nn.Module, nn.Module]:
    """DCGAN's (G, D) for images of ``shape = (C, H, W)`` (square, side 8..64): G from
    ``model.noise_dim`` with ``model.g_width`` channels in its last hidden layer, D with
    ``model.d_width`` in its first and the remedies of ``model`` (pack, minibatch layers,
    spectral norm, ``model.d_norm``); ``model.g_depth`` / ``d_depth`` extra 3x3 convolutions
    at each resolution; ``model.g_fc`` / ``d_fc`` a fully-connected hidden layer.
    ``class_prior``: the data's class shares (None for unlabelled data), read only with
    ``model.conditional``: G(z, y) sampling it and a projection D over its classes.
    Raises `GankitError` naming the key that does not fit."""
    if model.arch != "dcgan":
        raise GankitError(
            f"model.arch = {model.arch!r} is for toy data; images need model.arch = 'dcgan'"
        )
    check_model(model, identity_head)
    channels, height, width = shape
    if height != width:
        raise GankitError(
            f"data.image_size: DCGAN needs square images, got {height}x{width}; "
            "set data.image_size to resize them"
        )
    if model.conditional and class_prior is None:
        raise GankitError("model.conditional needs labelled data: this data has no class labels")
    prior = class_prior if model.conditional else None
    g = dcgan_generator(model, channels, height, prior)
    d = DCGANDiscriminator(
        channels,
        height,
        model.d_width,
        norm=model.d_norm,
        extra_layers=model.d_depth,
        classes=0 if prior is None else prior.shares.numel(),
        hidden=model.d_fc,
        **discriminator_remedies(model, identity_head),
    )
    return g, d


def build_models(
    model: ModelConfig,
    data_dim: int,
    sample_data=None,
    seed: int = 0,
    *,
    identity_head: bool = False,
) -> tuple[nn.Module, nn.Module]:
    """(G, D) for vector data of ``data_dim`` dimensions. With ``sample_data`` (``(n, gen) ->
    (n, dim)``) both nets' data standardisation is fitted on a sample drawn from its own stream,
    so that it never shifts the training streams.

    G is a `Generator`, or a `MixtureGenerator` of ``model.generators`` MLPs. D is a
    `Discriminator` with the remedies of ``model`` (pack, minibatch layers, spectral norm), or a
    `MomentsDiscriminator` for ``model.d_input = "moments"``; with ``identity_head`` (the game's
    ``diversity > 0``) D also gets MAD-GAN's identity head of ``model.generators`` logits.
    With ``model.arch = "dirac"``: the Dirac-GAN's `DiracGenerator` (``G(z) = theta``) and
    `DiracDiscriminator` (``D(x) = psi * x``), started at :func:`gankit.nets.dirac.dirac_start`
    of ``seed`` (the paper's (1, 1) for seed 0), without standardisation (the data is a point
    mass: it has no scale to fit), for 1-D data only.
    Raises `GankitError` for combinations :func:`check_model` refuses."""
    if model.arch == "dcgan":
        raise GankitError("model.arch = 'dcgan' needs image data (data.name = digits, mnist, ...)")
    check_model(model, identity_head)
    if model.arch == "dirac":
        if data_dim != 1:
            raise GankitError(f"model.arch = 'dirac' needs 1-D data, got {data_dim}-D")
        theta, psi = dirac_start(seed)
        return DiracGenerator(theta), DiracDiscriminator(psi)
    if model.generators > 1:
        g = MixtureGenerator(
            model.generators,
            model.noise_dim,
            data_dim,
            model.g_width,
            model.g_depth,
            model.activation,
        )
    else:
        g = generator_mlp(model.noise_dim, data_dim, model.g_width, model.g_depth, model.activation)
    if model.d_input == "moments":
        d = MomentsDiscriminator(
            data_dim,
            model.d_width,
            model.d_depth,
            model.activation,
            spectral_norm=model.spectral_norm,
        )
    else:
        d = Discriminator(
            data_dim,
            model.d_width,
            model.d_depth,
            model.activation,
            **discriminator_remedies(model, identity_head),
        )
    if sample_data is not None and model.standardize:
        reference = sample_data(STANDARDIZE_SAMPLES, torch.Generator().manual_seed(seed + 104729))
        g.standardize.fit(reference)
        d.standardize.fit(reference)
    return g, d


def batch_multiple(model: ModelConfig) -> int:
    """The number every minibatch size must be a multiple of for D: ``model.pack``, or the
    moments D's group size."""
    return MOMENTS_GROUP if model.d_input == "moments" else model.pack
