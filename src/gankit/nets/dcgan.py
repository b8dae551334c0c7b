"""DCGAN generator and discriminator for images (Radford et al. 2016, "Unsupervised
representation learning with deep convolutional generative adversarial networks").

The paper's guidelines, sec. 3: strided convolutions (transposed in G) instead of pooling, batch
norm in G (and in D, except D's first layer), no fully-connected hidden layers, ReLU in G with a
tanh output, LeakyReLU(0.2) in D, weights drawn from N(0, 0.02). Pixels live in [-1, 1] inside
the nets: G's tanh produces them, D expects them.

Depth follows the image size (:func:`dcgan_layout`): a side ``S = b * 2^k`` with a start size
``b`` in 4..7 and ``k >= 1`` doublings, ``S`` in 8..64: 8, 10, 12, 14, 16, 20, 24, 28, 32, 40,
48, 56, 64. G grows a ``b x b`` map by ``k`` stride-2 transposed convolutions; D shrinks the
image back to ``b x b`` by ``k`` stride-2 convolutions, mirroring G's channel widths. One
departure, off by default: a fully-connected hidden layer in G (before its projection) and in D
(after its convolutions), ``hidden``, as InfoGAN's MNIST nets (Chen et al. 2016, Table 1).

`DCGANDiscriminator` follows the contract of the toy `gankit.nets.mlp.Discriminator` (and so
the `gankit.game.game.Game`'s): ``features(x) -> (n', F)``, ``score(f) -> (n', 1)``,
``identity(f) -> (n', k)``, ``forward(x) = score(features(x))``, ``pack``, ``pointwise``, with
the same remedies (PacGAN packing, minibatch std, minibatch discrimination, spectral norm).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _torch_spectral_norm
from torch.nn.utils.parametrize import is_parametrized

from gankit.errors import GankitError
from gankit.nets.conditional import ClassPrior, ClassProjection, check_classes, with_class_input
from gankit.nets.layers import (
    MinibatchDiscrimination,
    MinibatchStd,
    pack_samples,
    spectral_normalize,
)

MIN_IMAGE_SIZE = 8
MAX_IMAGE_SIZE = 64
START_SIZES = (4, 5, 6, 7)
NORMS = ("batch", "none", "layer")
INIT_STD = 0.02


def _layout(size: int) -> tuple[int, int] | None:
    if not MIN_IMAGE_SIZE <= size <= MAX_IMAGE_SIZE:
        return None
    k = 0
    while size % 2 ** (k + 1) == 0 and size // 2 ** (k + 1) >= START_SIZES[0]:
        k += 1
    b = size // 2**k
    return (b, k) if k >= 1 and b in START_SIZES else None


ALLOWED_IMAGE_SIZES = tuple(
    s for s in range(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE + 1) if _layout(s) is not None
)


def dcgan_layout(image_size: int) -> tuple[int, int]:
    """``(start_size, doublings)`` of a DCGAN for square images of side ``image_size``.

    The largest ``k`` with ``image_size % 2^k == 0`` and ``image_size / 2^k >= 4``; the start
    size ``b = image_size / 2^k`` must then be in 4..7 and ``k >= 1``, e.g. 8 -> (4, 1),
    24 -> (6, 2), 28 -> (7, 2), 64 -> (4, 4). Sides outside 8..64 are refused too.
    Raises `GankitError` naming ``data.image_size`` and the allowed sizes."""
    if isinstance(image_size, bool) or not isinstance(image_size, int):
        raise GankitError(f"data.image_size must be an integer, got {image_size!r}")
    layout = _layout(image_size)
    if layout is None:
        raise GankitError(
            f"data.image_size = {image_size}: the DCGAN nets need a side b * 2^k with a start "
            f"size b in 4..7, k >= 1, between {MIN_IMAGE_SIZE} and {MAX_IMAGE_SIZE}: one of "
            f"{', '.join(map(str, ALLOWED_IMAGE_SIZES))}"
        )
    return layout


def init_dcgan_weights(module: nn.Module) -> nn.Module:
    """DCGAN's initialisation (Radford et al. 2016, sec. 4), on every submodule of ``module``:
    convolution, transposed convolution and linear weights from N(0, 0.02^2), their biases 0;
    batch-norm and group-norm scales from N(1, 0.02^2), shifts 0. Spectrally normalised layers
    get their raw weight (``parametrizations.weight.original``) drawn. Other parameters (the
    minibatch-discrimination tensor ``T``, with its own authors' N(0, 0.05^2)) are left alone.
    Draws from the global torch RNG, like torch's own initialisers. Returns ``module``."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                weight = (
                    m.parametrizations.weight.original if is_parametrized(m, "weight") else m.weight
                )
                nn.init.normal_(weight, 0.0, INIT_STD)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) and m.affine:
                nn.init.normal_(m.weight, 1.0, INIT_STD)
                nn.init.zeros_(m.bias)
    return module


def _positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


class DCGANGenerator(nn.Module):
    """G: noise ``(n, noise_dim)`` -> images ``(n, channels, S, S)`` in [-1, 1].

    ``ConvTranspose2d(noise_dim, C0, kernel b)`` on the noise as a 1 x 1 map -> BN -> ReLU, then
    ``k - 1`` x [``ConvTranspose2d(4, 2, 1)`` -> BN -> ReLU], then ``ConvTranspose2d(4, 2, 1)``
    to ``channels`` -> tanh, where ``(b, k) = dcgan_layout(S)``. Widths: ``C0 = width * 2^(k-1)``
    halving at each doubling, so that the last hidden layer has ``width`` channels (64 -> 512,
    256, 128, 64 at 64 px, the paper's).

    The first layer is the paper's "project and reshape": a transposed convolution with kernel
    ``b`` on a 1 x 1 map is exactly a linear map to ``C0 * b * b`` followed by a reshape; the
    convolution form (the one of the PyTorch DCGAN example) keeps G all-convolutional, with one
    initialisation rule for every layer. Layers followed by batch norm have no bias (the norm's
    shift replaces it); the output layer has one.

    ``extra_layers = e > 0`` deepens G without changing its resolutions: after each block,
    ``e`` x [``Conv2d(3, 1, 1)`` -> BN -> ReLU] at the same size and width (0: the paper's).

    ``hidden = h > 0`` puts a fully-connected layer before the projection: ``Linear(noise_dim,
    h)`` -> BN -> ReLU, the projection then reading ``h`` inputs. DCGAN has none (0); InfoGAN's
    MNIST G has one of 1024 (Chen et al. 2016, Table 1), so that a one-hot code can switch
    whole hidden units on and off before the image is laid out.

    ``class_prior`` (a `~gankit.nets.conditional.ClassPrior` of K classes) makes G
    class-conditional: ``G(z, y)`` reads the one-hot of ``y (n,)`` beside ``z`` (its first layer
    takes ``noise_dim + K`` inputs), and keeps the prior as ``G.class_prior`` for sampling."""

    def __init__(
        self,
        noise_dim: int,
        channels: int,
        image_size: int,
        width: int = 64,
        extra_layers: int = 0,
        class_prior: ClassPrior | None = None,
        hidden: int = 0,
    ):
        super().__init__()
        _positive("noise_dim", noise_dim)
        _positive("channels", channels)
        _positive("width", width)
        b, k = dcgan_layout(image_size)
        self.noise_dim, self.channels, self.image_size = noise_dim, channels, image_size
        self.start_size, self.doublings = b, k
        if extra_layers < 0:
            raise ValueError(f"extra_layers must be >= 0, got {extra_layers}")
        self.class_prior = class_prior
        self.classes = 0 if class_prior is None else class_prior.shares.numel()
        if hidden < 0:
            raise ValueError(f"hidden must be >= 0, got {hidden}")
        inputs = noise_dim + self.classes
        self.hidden = _hidden_layer(inputs, hidden, nn.BatchNorm1d, nn.ReLU())
        c = width * 2 ** (k - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(hidden or inputs, c, b, 1, 0, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(),
        ]
        layers += _same_size(c, extra_layers, nn.BatchNorm2d, nn.ReLU)
        for _ in range(k - 1):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(),
            ]
            c //= 2
            layers += _same_size(c, extra_layers, nn.BatchNorm2d, nn.ReLU)
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"G expects noise (n, {self.noise_dim}), got {tuple(z.shape)}")
        if self.classes:
            z = with_class_input(z, check_classes(y, self.classes, z.shape[0], "G"), self.classes)
        elif y is not None:
            raise ValueError("G is unconditional: it takes no classes y")
        return self.net(self.hidden(z)[:, :, None, None])


def _hidden_layer(inputs: int, units: int, norm, activation: nn.Module) -> nn.Module:
    """A fully-connected hidden layer ``Linear(inputs, units)`` -> ``norm(units)`` ->
    ``activation`` (no bias before a norm, whose shift replaces it); ``nn.Identity()`` for
    ``units = 0``."""
    if units == 0:
        return nn.Identity()
    norm = norm(units)
    bias = isinstance(norm, nn.Identity)
    return nn.Sequential(nn.Linear(inputs, units, bias=bias), norm, activation)


def _norm_layer(norm: str, c: int, batch_norm=nn.BatchNorm2d) -> nn.Module:
    """``norm`` over ``c`` channels: ``batch_norm(c)`` (``nn.BatchNorm1d`` for the ``(n, c)``
    features of a fully-connected layer), ``"layer"``: ``GroupNorm(1, c)``, per sample over
    all its channels (and pixels), or nothing."""
    if norm == "batch":
        return batch_norm(c)
    if norm == "layer":
        return nn.GroupNorm(1, c)
    return nn.Identity()


def _same_size(c: int, count: int, norm, activation) -> list[nn.Module]:
    """``count`` x [3x3 convolution keeping size and width -> ``norm(c)`` -> activation]."""
    layers: list[nn.Module] = []
    for _ in range(count):
        bias = isinstance(norm(c), nn.Identity)
        layers += [nn.Conv2d(c, c, 3, 1, 1, bias=bias), norm(c), activation()]
    return layers


class DCGANDiscriminator(nn.Module):
    """D: images ``(n, channels, S, S)`` in [-1, 1] -> one raw score each, ``(n, 1)``; with
    packing one score per pack, ``(n / pack, 1)``.

    ``Conv2d(4, 2, 1)`` (no norm on the first layer, as the paper) -> LeakyReLU(0.2), then
    ``k - 1`` x [``Conv2d(4, 2, 1)`` -> norm -> LeakyReLU(0.2)] down to ``b x b`` with
    ``width * 2^(k-1)`` channels (G's widths mirrored), then the score.

    The contract of `gankit.nets.mlp.Discriminator`:

    - ``features(x) -> (n', F)``: the flattened ``b x b`` map, then the minibatch features
      where on; ``F = feature_dim = width * 2^(k-1) * b^2 (+ 1 with minibatch_std)
      (+ minibatch_kernels)``; ``n' = n / pack``.
    - ``score(f) -> (n', 1)``: DCGAN's last layer, a convolution with kernel ``b`` over the
      ``b x b`` map, written as the equivalent ``nn.Linear(F, 1)`` (a kernel-b convolution of a
      b x b map without padding is a dot product with the flattened map, in the same
      channel-row-column order), which also reads the appended minibatch features.
    - ``identity(f) -> (n', identity_classes)``: MAD-GAN's which-generator head, a second
      linear layer on the same features, when ``identity_classes > 0``.
    - ``forward(x) = score(features(x))``.

    ``classes = K > 0`` makes D class-conditional by projection (Miyato & Koyama 2018):
    ``score(f, y) = linear(f) + <e_y, f>`` with a learned ``(K, F)`` embedding (spectrally
    normalised with ``spectral_norm``), ``forward(x, y)``; not with packing (a pack mixes
    classes).

    Remedies, each off by default:

    - ``pack = m`` (PacGAN, Lin et al. 2018): samples ``i*m .. i*m + m - 1`` form a pack (as
      :func:`gankit.nets.layers.pack_samples`), concatenated along the channel axis, so the
      first convolution reads ``channels * m`` maps; ``n`` must be a multiple of m. In eval
      mode each image is scored as a pack of m copies of itself, as the toy D.
    - ``minibatch_std`` (Karras et al. 2018): the minibatch's mean feature std, computed on
      the flattened last map and appended as one extra feature (not as a constant ``b x b``
      channel, as ProGAN/StyleGAN do before their last 3x3 convolution: here the next layer is
      the kernel-b score, for which a constant channel is the same as one feature with ``b^2``
      tied weights; one feature keeps ``features`` a flat vector like the toy D's).
    - ``minibatch_kernels = B > 0`` (Salimans et al. 2016, sec. 3.2): B closeness features of
      the flattened last map, each from a kernel of ``minibatch_kernel_dim`` dimensions.
    - ``spectral_norm`` (Miyato et al. 2018): every convolution and linear layer (score and
      identity heads included) divided by its largest singular value (of the weight reshaped
      to ``(out, in * kh * kw)``, as Miyato et al. and torch do). SN replaces batch norm, as in
      their SN-DCGAN: with ``spectral_norm`` a ``norm = "batch"`` (the default) becomes
      ``"none"``; ``"layer"`` is kept.
    - ``norm``: ``"batch"`` (the paper's), ``"none"``, or ``"layer"``: ``GroupNorm(1, C)``,
      normalising each sample over its channels and pixels, for WGAN-GP critics, whose gradient
      penalty is per sample, which batch statistics break (Gulrajani et al. 2017, sec. 4).
      The effective choice is ``self.norm``.

    ``extra_layers = e > 0`` deepens D as G: after each downsampling block, ``e`` x
    [``Conv2d(3, 1, 1)`` -> norm -> LeakyReLU(0.2)] at the same size and width.

    ``hidden = h > 0`` puts a fully-connected layer between the body and the heads:
    ``Linear(F0, h)`` -> norm (batch: ``BatchNorm1d``; layer: per sample; none) ->
    LeakyReLU(0.2) on the flattened map (and its minibatch features), so ``F = h`` and the
    score, identity, projection and any head on ``features`` (InfoGAN's Q) read a nonlinear
    function of the whole image rather than a linear one of local features. DCGAN has none
    (0); InfoGAN's MNIST D has one of 1024 (Chen et al. 2016, Table 1).

    ``pointwise`` is False with minibatch layers (D's score of one image then depends on the
    rest of the batch), True otherwise, as the toy D. Convolutions followed by a norm have no
    bias (the norm's shift replaces it). D has no ``standardize``: its inputs are already in
    [-1, 1], so instance noise (`gankit.game.noise`) is in those units."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        width: int = 64,
        norm: str = "batch",
        *,
        pack: int = 1,
        minibatch_std: bool = False,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        identity_classes: int = 0,
        spectral_norm: bool = False,
        extra_layers: int = 0,
        classes: int = 0,
        hidden: int = 0,
    ):
        super().__init__()
        _positive("channels", channels)
        _positive("width", width)
        if extra_layers < 0:
            raise ValueError(f"extra_layers must be >= 0, got {extra_layers}")
        if norm not in NORMS:
            raise ValueError(f"unknown norm '{norm}'; known: {', '.join(NORMS)}")
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        if minibatch_kernels < 0 or identity_classes < 0 or classes < 0 or hidden < 0:
            raise ValueError("minibatch_kernels, identity_classes, classes and hidden must be >= 0")
        if classes and pack > 1:
            raise ValueError("a class-conditional D scores single images: pack must be 1")
        b, k = dcgan_layout(image_size)
        self.channels, self.image_size, self.pack = channels, image_size, pack
        self.start_size, self.doublings = b, k
        self.norm = "none" if spectral_norm and norm == "batch" else norm
        c = width

        def norm_of(n: int) -> nn.Module:
            return _norm_layer(self.norm, n)

        def leaky() -> nn.Module:
            return nn.LeakyReLU(0.2)

        layers: list[nn.Module] = [nn.Conv2d(channels * pack, c, 4, 2, 1), leaky()]
        layers += _same_size(c, extra_layers, norm_of, leaky)
        for _ in range(k - 1):
            layers += [
                nn.Conv2d(c, 2 * c, 4, 2, 1, bias=self.norm == "none"),
                norm_of(2 * c),
                leaky(),
            ]
            c *= 2
            layers += _same_size(c, extra_layers, norm_of, leaky)
        self.body = nn.Sequential(*layers)
        flat = c * b * b
        extra = int(minibatch_std) + minibatch_kernels
        self.hidden = _hidden_layer(
            flat + extra,
            hidden,
            lambda n: _norm_layer(self.norm, n, nn.BatchNorm1d),
            nn.LeakyReLU(0.2),
        )
        self.feature_dim = hidden or flat + extra
        self.mb_std = MinibatchStd() if minibatch_std else None
        self.mb_disc = (
            MinibatchDiscrimination(flat, minibatch_kernels, minibatch_kernel_dim)
            if minibatch_kernels > 0
            else None
        )
        self.score_head = nn.Linear(self.feature_dim, 1)
        self.identity_head = (
            nn.Linear(self.feature_dim, identity_classes) if identity_classes > 0 else None
        )
        self.pointwise = extra == 0
        init_dcgan_weights(self)
        self.classes = classes
        self.projection = (
            ClassProjection(classes, self.feature_dim, spectral_norm) if classes else None
        )
        if spectral_norm:
            spectral_normalize(self)  # the linear heads
            for layer in self.body:
                if isinstance(layer, nn.Conv2d):
                    _torch_spectral_norm(layer)

    def _packs(self, x: Tensor) -> Tensor:
        """``(n, C, S, S) -> (n / m, m * C, S, S)``: pack ``i`` holds samples ``i*m .. i*m+m-1``
        along the channel axis (``pack_samples``'s rows, reshaped back to maps)."""
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ValueError(
                f"D expects images (n, {self.channels}, {self.image_size}, {self.image_size}), "
                f"got {tuple(x.shape)}"
            )
        if self.pack == 1:
            return x
        if not self.training:
            x = x.repeat_interleave(self.pack, 0)  # eval: each image is a pack of its copies
        packed = pack_samples(x, self.pack)
        return packed.reshape(packed.shape[0], self.pack * self.channels, *x.shape[2:])

    def features(self, x: Tensor) -> Tensor:
        """``(n, C, S, S) -> (n', F)``: the activations the score layer reads."""
        f = self.body(self._packs(x)).flatten(1)
        extras = []
        if self.mb_std is not None:
            extras.append(self.mb_std(f))
        if self.mb_disc is not None:
            extras.append(self.mb_disc(f))
        return self.hidden(torch.cat([f, *extras], 1) if extras else f)

    def score(self, f: Tensor, y: Tensor | None = None) -> Tensor:
        """``(n', F) -> (n', 1)``: raw scores of features from :meth:`features` (of images of
        classes ``y (n',)`` for a conditional D)."""
        if self.projection is None:
            if y is not None:
                raise ValueError("D is unconditional: it takes no classes y")
            return self.score_head(f)
        y = check_classes(y, self.classes, f.shape[0], "D")
        return self.score_head(f) + self.projection(f, y)

    def identity(self, f: Tensor) -> Tensor:
        """``(n', F) -> (n', k)``: logits of which generator made each sample (MAD-GAN's
        identity head). Raises `GankitError` when D was built without one."""
        if self.identity_head is None:
            raise GankitError(
                "D has no identity head: it needs model.generators > 1 and game.diversity > 0"
            )
        return self.identity_head(f)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.score(self.features(x), y)
