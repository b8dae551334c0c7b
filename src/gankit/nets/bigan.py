"""BiGAN / ALI's nets (Donahue et al. 2017; Dumoulin et al. 2017): an encoder ``E(x) -> z``
beside the generator, and a joint discriminator ``D(x, z)`` on (data, code) pairs.

Images (``model.arch = "dcgan"``):

- `ConvEncoder`: DCGAN's discriminator body mirrored (`gankit.nets.dcgan`: ``Conv2d(4, 2, 1)``
  -> LeakyReLU(0.2), then ``k - 1`` x [``Conv2d(4, 2, 1)`` -> norm -> LeakyReLU(0.2)] down to
  ``b x b``), then a linear map of the flattened map to ``z_dim`` outputs (``2 z_dim`` for
  ALI's stochastic encoder: mean and log-variance).
- `JointConvDiscriminator`: the same convolutional body on x, an MLP on z (one hidden layer of
  ``joint_width`` units), their features concatenated, then an MLP (one hidden layer of
  ``joint_width``) to one raw score, as Donahue et al.'s MNIST D joins its two streams; dropout
  on the hidden layers as both papers' D (ALI: 0.2), its masks drawn from the stream passed.

Points (``model.arch = "mlp"``, the toys): `MlpEncoder` (an MLP on standardised points) and
`JointMlpDiscriminator` (an MLP on ``[standardised x, z]``). G is the one the GAN builds
(`gankit.nets.dcgan.DCGANGenerator`, `gankit.nets.mlp.Generator`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets.build import dcgan_generator
from gankit.nets.dcgan import dcgan_layout, init_dcgan_weights
from gankit.nets.mlp import Generator, Standardize, activation_module, generator_mlp
from gankit.nets.unet import kept_dropout

#: the norms of the convolutional bodies (``model.d_norm``)
NORMS = ("batch", "none", "layer")


def _norm(norm: str, c: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(c)
    if norm == "layer":
        return nn.GroupNorm(1, c)
    return nn.Identity()


def conv_body(
    channels: int, image_size: int, width: int, norm: str = "batch", extra_layers: int = 0
) -> tuple[nn.Sequential, int]:
    """DCGAN's discriminator body for ``(n, channels, S, S)`` images, flattened: ``(module,
    features)`` with ``features = width * 2^(k-1) * b^2`` (``(b, k) = dcgan_layout(S)``); no
    norm on the first layer (Radford et al. 2016); ``extra_layers`` 3x3 convolutions at each
    resolution."""
    if norm not in NORMS:
        raise ValueError(f"unknown norm '{norm}'; known: {', '.join(NORMS)}")
    b, k = dcgan_layout(image_size)
    c = width
    layers: list[nn.Module] = [nn.Conv2d(channels, c, 4, 2, 1), nn.LeakyReLU(0.2)]

    def same_size(c: int) -> list[nn.Module]:
        out: list[nn.Module] = []
        for _ in range(extra_layers):
            out += [nn.Conv2d(c, c, 3, 1, 1, bias=norm == "none"), _norm(norm, c)]
            out.append(nn.LeakyReLU(0.2))
        return out

    layers += same_size(c)
    for _ in range(k - 1):
        layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=norm == "none"), _norm(norm, 2 * c)]
        layers.append(nn.LeakyReLU(0.2))
        c *= 2
        layers += same_size(c)
    layers.append(nn.Flatten())
    return nn.Sequential(*layers), c * b * b


class _Encoder(nn.Module):
    """What every encoder shares: ``moments(x) -> (mean, log_var | None)`` from the subclass's
    ``head(x)`` (a log-variance for ALI's stochastic encoder only), and ``forward(x)``: the
    mean, the code a deterministic E gives (ALI's draw is the trainable's:
    `gankit.game.bigan.reparameterize`)."""

    z_dim: int
    stochastic: bool

    def head(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def moments(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(mean (n, z_dim), log_var (n, z_dim) or None)`` of q(z|x)."""
        out = self.head(x)
        if not self.stochastic:
            return out, None
        mean, log_var = out.chunk(2, dim=1)
        return mean, log_var

    def forward(self, x: Tensor) -> Tensor:
        return self.moments(x)[0]


class ConvEncoder(_Encoder):
    """E: images ``(n, channels, S, S)`` in [-1, 1] -> codes ``(n, z_dim)`` (see the module
    docstring); DCGAN's initialisation."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        z_dim: int,
        width: int = 64,
        norm: str = "batch",
        extra_layers: int = 0,
        stochastic: bool = False,
    ):
        super().__init__()
        self.z_dim, self.stochastic = z_dim, stochastic
        self.body, features = conv_body(channels, image_size, width, norm, extra_layers)
        self.out = nn.Linear(features, z_dim * (2 if stochastic else 1))
        init_dcgan_weights(self)

    def head(self, x: Tensor) -> Tensor:
        return self.out(self.body(x))


class MlpEncoder(_Encoder):
    """E: points ``(n, data_dim)`` -> codes ``(n, z_dim)``: an MLP (``depth`` hidden layers of
    ``width``) on points in standard units (``standardize``, fitted by the builder)."""

    def __init__(
        self,
        data_dim: int,
        z_dim: int,
        width: int,
        depth: int,
        activation: str,
        stochastic: bool = False,
    ):
        super().__init__()
        self.z_dim, self.stochastic = z_dim, stochastic
        self.standardize = Standardize(data_dim)
        layers: list[nn.Module] = []
        last = data_dim
        for _ in range(depth):
            layers += [nn.Linear(last, width), activation_module(activation)]
            last = width
        layers.append(nn.Linear(last, z_dim * (2 if stochastic else 1)))
        self.net = nn.Sequential(*layers)

    def head(self, x: Tensor) -> Tensor:
        return self.net(self.standardize(x))


class _JointHead(nn.Module):
    """The part of a joint D after the x features: ``z -> hidden`` (one layer), then
    ``[fx, fz] -> hidden -> score``, LeakyReLU(0.2), dropout at ``dropout`` on both hidden
    layers in training mode (masks from the stream passed)."""

    def __init__(self, x_features: int, z_dim: int, width: int, dropout: float):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise GankitError(f"bigan.dropout: must lie in [0, 1), got {dropout}")
        self.dropout = float(dropout)
        self.z_layer = nn.Linear(z_dim, width)
        self.joint = nn.Linear(x_features + width, width)
        self.score = nn.Linear(width, 1)
        self.act = nn.LeakyReLU(0.2)

    def _drop(self, h: Tensor, rng: torch.Generator | None) -> Tensor:
        return kept_dropout(h, self.dropout, rng) if self.training else h

    def forward(self, fx: Tensor, z: Tensor, rng: torch.Generator | None) -> Tensor:
        fz = self._drop(self.act(self.z_layer(z)), rng)
        h = self._drop(self.act(self.joint(torch.cat([fx, fz], 1))), rng)
        return self.score(h)


class JointConvDiscriminator(nn.Module):
    """D: ``(images (n, C, S, S) in [-1, 1], codes (n, z_dim)) -> (n, 1)`` raw scores (see the
    module docstring); ``forward(x, z, rng)``, ``rng`` the stream of dropout's masks (None:
    torch's global generator; in eval mode there is no dropout)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        z_dim: int,
        width: int = 64,
        joint_width: int = 256,
        norm: str = "batch",
        extra_layers: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.z_dim = z_dim
        self.body, features = conv_body(channels, image_size, width, norm, extra_layers)
        self.head = _JointHead(features, z_dim, joint_width, dropout)
        init_dcgan_weights(self)

    def forward(self, x: Tensor, z: Tensor, rng: torch.Generator | None = None) -> Tensor:
        return self.head(self.body(x), z, rng)


class JointMlpDiscriminator(nn.Module):
    """D: ``(points (n, data_dim), codes (n, z_dim)) -> (n, 1)``: an MLP (``depth`` hidden
    layers of ``width``, dropout at ``dropout`` after each in training mode) on
    ``[standardize(x), z]``."""

    def __init__(
        self,
        data_dim: int,
        z_dim: int,
        width: int,
        depth: int,
        activation: str,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise GankitError(f"bigan.dropout: must lie in [0, 1), got {dropout}")
        self.z_dim, self.dropout = z_dim, float(dropout)
        self.standardize = Standardize(data_dim)
        self.hidden = nn.ModuleList()
        last = data_dim + z_dim
        for _ in range(depth):
            self.hidden.append(nn.Linear(last, width))
            last = width
        self.acts = nn.ModuleList(activation_module(activation) for _ in range(depth))
        self.score = nn.Linear(last, 1)

    def forward(self, x: Tensor, z: Tensor, rng: torch.Generator | None = None) -> Tensor:
        h = torch.cat([self.standardize(x), z], 1)
        for layer, act in zip(self.hidden, self.acts, strict=True):
            h = act(layer(h))
            if self.training:
                h = kept_dropout(h, self.dropout, rng)
        return self.score(h)


def build_bigan_models(
    model: ModelConfig,
    data_shape: tuple[int, ...] | int,
    *,
    joint_width: int,
    dropout: float,
    stochastic: bool,
) -> tuple[nn.Module, nn.Module, nn.Module]:
    """``(G, E, D)`` for images of ``data_shape = (C, S, S)`` (``model.arch = "dcgan"``: G as the
    GAN's, E and D's x-stream with ``model.d_width`` / ``d_depth`` / ``d_norm``) or points of
    ``data_shape = dim`` (``"mlp"``: G as the GAN's MLP, E and D with ``model.d_width`` /
    ``d_depth`` / ``activation``). Codes have ``model.noise_dim`` dimensions. The toys' unit
    standardisation is left to the caller (`fit_standardization`). `GankitError` naming the
    key that does not fit."""
    z = model.noise_dim
    if model.arch == "dcgan":
        if not isinstance(data_shape, tuple) or len(data_shape) != 3:
            raise GankitError("model.arch = 'dcgan' needs image data (data.name = digits, ...)")
        channels, height, width = data_shape
        if height != width:
            raise GankitError(f"data.image_size: BiGAN needs square images, got {height}x{width}")
        g = dcgan_generator(model, channels, height)
        e = ConvEncoder(channels, height, z, model.d_width, model.d_norm, model.d_depth, stochastic)
        d = JointConvDiscriminator(
            channels,
            height,
            z,
            model.d_width,
            joint_width,
            model.d_norm,
            model.d_depth,
            dropout,
        )
        return g, e, d
    if model.arch != "mlp":
        raise GankitError(
            f"model.arch = {model.arch!r}: BiGAN builds MLPs (points) or DCGAN nets (images)"
        )
    if isinstance(data_shape, tuple):
        raise GankitError("model.arch = 'mlp' is for points; images need model.arch = 'dcgan'")
    dim = int(data_shape)
    g: Generator = generator_mlp(z, dim, model.g_width, model.g_depth, model.activation)
    e = MlpEncoder(dim, z, model.d_width, model.d_depth, model.activation, stochastic)
    d = JointMlpDiscriminator(dim, z, model.d_width, model.d_depth, model.activation, dropout)
    return g, e, d


@torch.no_grad()
def fit_standardization(nets: tuple[nn.Module, ...], points: Tensor) -> None:
    """Fit the standard units of every net in ``nets`` that has them to ``points (n, dim)``."""
    for net in nets:
        standardize = getattr(net, "standardize", None)
        if isinstance(standardize, Standardize):
            standardize.fit(points)
