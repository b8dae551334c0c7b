"""The variational autoencoder's networks (Kingma & Welling 2014, "Auto-encoding variational
Bayes"): an encoder ``q(z|x) = N(mu, diag exp(logvar))``, the prior ``p(z) = N(0, I)`` and a
decoder ``p(x|z)``, Bernoulli (logits) or Gaussian (a mean and a learned log-scale).

The objective is not here: the nets layer does not import the game layer. The ELBO, its terms
and the importance-weighted bound are pure functions in `gankit.game.elbo`; a training step
composes the two::

    mu, logvar = vae.encode(x)                       # x in the nets' convention
    z = vae.reparameterize(mu, logvar, generator)    # (n, latent_dim)
    out = vae.decode(z)                              # logits or the Gaussian mean
    target = vae.target(x)                           # what the likelihood reads
    log_lik = (bernoulli_log_likelihood(out, target) if vae.likelihood == "bernoulli"
               else gaussian_log_likelihood(out, vae.log_scale, target))
    loss = negative_elbo_loss(log_lik, gaussian_kl(mu, logvar))

Units, explicit at every step. Data arrive as the GANs' data do (`gankit.data.batch.Batch`):
points ``(n, dim)`` in data units, images ``(n, C, H, W)`` in [-1, 1] (the nets' convention,
`gankit.data.checks.to_net`). A Bernoulli decoder models pixels in [0, 1]: its targets are
:func:`to_unit` of the images, ``(x + 1) / 2`` (:meth:`VAE.target`), and its logits are over
those. Whatever comes out (:meth:`VAE.sample`, :meth:`VAE.decoder_mean`) is back in the nets'
convention, images in [-1, 1] like a GAN generator's (so `gankit.data.checks.from_net`, the
evaluators and the snapshots read a VAE's samples as a G's). :func:`from_unit` is the inverse
map. A Gaussian decoder reads the data in their own units (no conversion): its log-likelihood is
then a density of ``x`` as the data source gives it, comparable with a toy's exact ``log_prob``.

All randomness comes from a passed `torch.Generator` (:meth:`VAE.reparameterize`,
:meth:`VAE.sample`): the trainer saves and restores its generators, so a resumed run draws the
same noise. Initial weights are torch's defaults, from the global RNG, as the other nets.

Two builders: :func:`mlp_vae` for points (toys such as ``ring-8``) and :func:`conv_vae` for
images of the DCGAN sizes; :func:`build_vae` dispatches and refuses bad combinations with
`GankitError` naming the config keys of the ``[vae]`` section.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nets.dcgan import dcgan_layout
from gankit.nets.mlp import MLP, Standardize, activation_module

LIKELIHOODS = ("bernoulli", "gaussian")
KINDS = ("mlp", "conv")

#: the floor of the Gaussian decoder's log standard deviation (in the decoder's units: standard
#: units for points, [-1, 1] units for images): a learned scale on a dimension the decoder can
#: fit exactly (MNIST's border pixels are always -1) would shrink to 0 and the likelihood grow
#: without bound; at the floor each such dimension adds at most ``-log(1e-3) - 0.92 = 6`` nats.
MIN_LOG_SCALE = math.log(1e-3)


def to_unit(x: Tensor) -> Tensor:
    """Images from the nets' convention [-1, 1] to [0, 1], ``(x + 1) / 2``: the targets of a
    Bernoulli decoder. Any shape; no clamping (values outside map outside)."""
    return (x + 1.0) * 0.5


def from_unit(u: Tensor) -> Tensor:
    """The inverse of :func:`to_unit`: values in [0, 1] to the nets' [-1, 1], ``2 u - 1``."""
    return u * 2.0 - 1.0


class VAE(nn.Module):
    """A VAE: ``encode(x) -> (mu, logvar)``, ``decode(z) -> logits or mean``, ``sample(n, g)``.

    ``encoder`` maps ``(n, *data_shape) -> (n, 2 * latent_dim)`` (``mu`` then ``logvar``);
    ``decoder`` maps ``(m, latent_dim) -> (m, *data_shape)``. ``likelihood`` is ``"bernoulli"``
    (the decoder outputs logits over [0, 1] targets, :func:`to_unit` of the images) or
    ``"gaussian"`` (the decoder outputs the mean; the log standard deviation is a learned
    parameter per data dimension, ``raw_log_scale`` of shape ``data_shape``, shared by all
    samples, floored at ``min_log_scale``: :attr:`log_scale`).

    ``standardize`` (points only, a `~gankit.nets.mlp.Standardize`, as the toy GAN nets): the
    encoder reads standardised points and the decoder's mean is mapped back to data units, so
    that nets with default initialisation see values of order one wherever the data live. Its
    buffers are identity until ``vae.standardize.fit(points)``; the Gaussian log-scale is
    learned in standard units (``raw_log_scale = 0``: one data standard deviation).

    Attributes: ``latent_dim``, ``likelihood``, ``data_shape`` (``(dim,)`` or ``(C, H, W)``),
    ``images`` (True for ``(C, H, W)``)."""

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        *,
        latent_dim: int,
        data_shape: tuple[int, ...],
        likelihood: str,
        standardize: Standardize | None = None,
        min_log_scale: float = MIN_LOG_SCALE,
    ):
        super().__init__()
        _check_likelihood(likelihood)
        if standardize is not None and likelihood != "gaussian":
            raise GankitError(
                f"vae.likelihood = {likelihood!r}: standardised points need 'gaussian'"
            )
        self.encoder, self.decoder = encoder, decoder
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)
        self.images = len(self.data_shape) == 3
        self.likelihood = likelihood
        self.standardize = standardize
        self.min_log_scale = float(min_log_scale)
        if likelihood == "gaussian":
            self.raw_log_scale = nn.Parameter(torch.zeros(self.data_shape))
        else:
            self.register_parameter("raw_log_scale", None)

    @property
    def log_scale(self) -> Tensor | None:
        """The Gaussian decoder's log standard deviation in data units, ``data_shape``
        (broadcasts over the batch in `gankit.game.elbo.gaussian_log_likelihood`):
        ``max(raw_log_scale, min_log_scale)`` plus ``log standardize.scale`` for points.
        None for a Bernoulli decoder."""
        if self.raw_log_scale is None:
            return None
        log_scale = self.raw_log_scale.clamp(min=self.min_log_scale)
        if self.standardize is not None:
            log_scale = log_scale + self.standardize.scale.log()
        return log_scale

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(n, *data_shape) -> (mu, logvar)``, each ``(n, latent_dim)``: the parameters of
        ``q(z|x) = N(mu, diag exp(logvar))``. ``x`` in the nets' convention (points in data
        units, images in [-1, 1]). Raises `ValueError` on another shape."""
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"the VAE encodes (n, {', '.join(map(str, self.data_shape))}), got {tuple(x.shape)}"
            )
        h = self.standardize(x) if self.standardize is not None else x
        mu, logvar = self.encoder(h).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """``(..., latent_dim) -> (..., *data_shape)``: the decoder's parameters of ``p(x|z)``,
        Bernoulli logits (over :func:`to_unit` targets) or the Gaussian mean (in data units;
        its log-scale is :attr:`log_scale`). Leading dimensions are kept, so ``k`` samples per
        point ``(k, n, latent_dim)`` decode to ``(k, n, *data_shape)`` for the IWAE bound."""
        if z.dim() < 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"the VAE decodes (..., {self.latent_dim}), got {tuple(z.shape)}")
        lead = z.shape[:-1]
        out = self.decoder(z.reshape(-1, self.latent_dim)).reshape(*lead, *self.data_shape)
        return self.standardize.inverse(out) if self.standardize is not None else out

    def target(self, x: Tensor) -> Tensor:
        """What the likelihood reads for data ``x`` in the nets' convention: :func:`to_unit`
        ``(x) = (x + 1) / 2`` in [0, 1] for a Bernoulli decoder, ``x`` itself for a Gaussian."""
        return to_unit(x) if self.likelihood == "bernoulli" else x

    def decoder_mean(self, out: Tensor) -> Tensor:
        """The mean of ``p(x|z)`` in the nets' convention, from :meth:`decode`'s output.

        Bernoulli: ``from_unit(sigmoid(logits))``, in [-1, 1]. Gaussian: the mean itself for
        points; for images clamped to [-1, 1], the range of the data it was fitted to (the
        mean is an unbounded linear output)."""
        if self.likelihood == "bernoulli":
            return from_unit(torch.sigmoid(out))
        return out.clamp(-1.0, 1.0) if self.images else out

    @staticmethod
    def reparameterize(
        mu: Tensor,
        logvar: Tensor,
        generator: torch.Generator,
        samples: int | None = None,
    ) -> Tensor:
        """``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` (Kingma & Welling 2014,
        sec. 2.4): a draw of ``q(z|x)`` that is differentiable in ``mu`` and ``logvar``.

        ``eps`` is drawn with ``torch.randn(..., generator=generator)`` on ``mu``'s device and
        dtype, from ``generator`` only (never the global RNG), so that a restored generator
        redraws it exactly. ``samples = k`` draws ``k`` per point: ``(n, d) -> (k, n, d)``
        (one draw of shape ``(k, n, d)``); None (default): ``(n, d)``."""
        shape = mu.shape if samples is None else (samples, *mu.shape)
        eps = torch.randn(shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``n`` samples ``(n, *data_shape)`` in the nets' convention, without gradients.

        ``z ~ N(0, I)`` from the prior, drawn from ``generator`` (on the VAE's device and
        dtype), then the decoder's mean (:meth:`decoder_mean`), not a draw from ``p(x|z)``:
        Bernoulli or Gaussian pixel noise on top of the mean is independent per pixel and would
        only add salt and pepper (the convention of Kingma & Welling's figures, and of VAE
        sample grids since); for points the decoder's noise, of learned scale, is left out
        too, so that samples show what the latent space learned. Images come out in [-1, 1],
        as a GAN generator's. The caller picks the mode (``eval()`` changes nothing here: the
        VAE nets have no batch norm or dropout)."""
        param = next(self.parameters())
        z = torch.randn(
            (n, self.latent_dim), generator=generator, device=param.device, dtype=param.dtype
        )
        return self.decoder_mean(self.decode(z))


def _check_int(key: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GankitError(f"{key} must be an integer >= {minimum}, got {value!r}")


def _check_likelihood(likelihood: str) -> None:
    if likelihood not in LIKELIHOODS:
        raise GankitError(
            f"vae.likelihood = {likelihood!r} is unknown; known: {', '.join(LIKELIHOODS)}"
        )


def _check_activation(activation: str) -> None:
    try:
        activation_module(activation)
    except ValueError as e:
        raise GankitError(f"vae.activation: {e}") from None


def _check_common(latent_dim: int, width: int, depth: int, likelihood: str, activation) -> None:
    _check_int("vae.latent_dim", latent_dim, 1)
    _check_int("vae.width", width, 1)
    _check_int("vae.depth", depth, 0)
    _check_likelihood(likelihood)
    _check_activation(activation)


def mlp_vae(
    dim: int,
    *,
    latent_dim: int,
    width: int,
    depth: int,
    activation: str,
    likelihood: str = "gaussian",
) -> VAE:
    """A VAE for points ``(n, dim)`` in data units (toys: ``ring-8`` is 2-D).

    Encoder: `~gankit.nets.mlp.Standardize` -> MLP with ``depth`` hidden layers of ``width``
    units -> ``2 * latent_dim`` (``mu``, ``logvar``); decoder: MLP ``latent_dim -> dim`` of the
    same widths -> back to data units; ``depth = 0`` makes both linear (with a Gaussian
    decoder, probabilistic PCA's model). Call ``vae.standardize.fit(points)`` before training,
    as the GAN recipe fits its toy nets. The decoder is Gaussian: points are not in [0, 1],
    so ``likelihood = "bernoulli"`` is refused (`GankitError` naming ``vae.likelihood``), as are
    ``latent_dim, width < 1`` and ``depth < 0`` (naming ``vae.latent_dim``, ...)."""
    _check_int("data dimension", dim, 1)
    _check_common(latent_dim, width, depth, likelihood, activation)
    if likelihood != "gaussian":
        raise GankitError(
            f"vae.likelihood = {likelihood!r} needs images (values in [0, 1] after to_unit); "
            "points in data units need 'gaussian'"
        )
    return VAE(
        MLP(dim, 2 * latent_dim, width, depth, activation),
        MLP(latent_dim, dim, width, depth, activation),
        latent_dim=latent_dim,
        data_shape=(dim,),
        likelihood=likelihood,
        standardize=Standardize(dim),
    )


def _same_size(c: int, count: int, activation: str) -> list[nn.Module]:
    """``count`` x [3x3 convolution keeping size and width -> activation]."""
    layers: list[nn.Module] = []
    for _ in range(count):
        layers += [nn.Conv2d(c, c, 3, 1, 1), activation_module(activation)]
    return layers


def conv_vae(
    channels: int,
    image_size: int,
    *,
    latent_dim: int,
    width: int,
    depth: int,
    activation: str,
    likelihood: str,
) -> VAE:
    """A convolutional VAE for square images ``(n, channels, S, S)`` in [-1, 1].

    The DCGAN layout (`gankit.nets.dcgan.dcgan_layout`): ``S = b * 2^k`` with ``b`` in 4..7,
    e.g. 8 -> (4, 1) (scikit-learn digits), 28 -> (7, 2) (MNIST), 32 -> (4, 3); other sizes are
    refused naming ``data.image_size``. Encoder: ``k`` x [``Conv2d(4, 2, 1)`` -> activation]
    from ``width`` channels doubling down to ``b x b`` with ``width * 2^(k-1)``, flattened ->
    ``Linear`` -> ``2 * latent_dim``. Decoder, mirrored: ``Linear`` -> activation -> a
    ``width * 2^(k-1)`` x ``b x b`` map, ``k - 1`` x [``ConvTranspose2d(4, 2, 1)`` ->
    activation] halving the channels, then ``ConvTranspose2d(4, 2, 1)`` to ``channels``, with
    no output activation (logits, or the Gaussian mean). ``depth = e`` adds ``e`` x
    [``Conv2d(3, 1, 1)`` -> activation] at each resolution (0: none), as DCGAN's
    ``extra_layers``.

    No batch norm: each sample's ELBO is then its own (batch statistics would tie it to its
    minibatch, and the ``k`` copies of an importance-weighted bound would shift them), and
    train and eval modes compute the same thing."""
    _check_int("image channels", channels, 1)
    _check_common(latent_dim, width, depth, likelihood, activation)
    b, k = dcgan_layout(image_size)
    c = width
    encoder: list[nn.Module] = [nn.Conv2d(channels, c, 4, 2, 1), activation_module(activation)]
    encoder += _same_size(c, depth, activation)
    for _ in range(k - 1):
        encoder += [nn.Conv2d(c, 2 * c, 4, 2, 1), activation_module(activation)]
        c *= 2
        encoder += _same_size(c, depth, activation)
    encoder += [nn.Flatten(), nn.Linear(c * b * b, 2 * latent_dim)]

    decoder: list[nn.Module] = [
        nn.Linear(latent_dim, c * b * b),
        activation_module(activation),
        nn.Unflatten(1, (c, b, b)),
    ]
    decoder += _same_size(c, depth, activation)
    for _ in range(k - 1):
        decoder += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), activation_module(activation)]
        c //= 2
        decoder += _same_size(c, depth, activation)
    decoder.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
    return VAE(
        nn.Sequential(*encoder),
        nn.Sequential(*decoder),
        latent_dim=latent_dim,
        data_shape=(channels, image_size, image_size),
        likelihood=likelihood,
    )


def build_vae(
    kind: str,
    shape: int | tuple[int, ...],
    *,
    latent_dim: int,
    width: int,
    depth: int,
    likelihood: str,
    activation: str,
) -> VAE:
    """The VAE of a kind of data: ``"mlp"`` for points (``shape`` = ``dim`` or ``(dim,)``),
    ``"conv"`` for square images (``shape = (C, S, S)``); see :func:`mlp_vae`,
    :func:`conv_vae`. Raises `GankitError` naming the key at fault (``vae.likelihood``,
    ``vae.latent_dim``, ``vae.width``, ``vae.depth``, ``vae.activation``, ``data.image_size``)
    or the kind and shape that do not match."""
    dims = (shape,) if isinstance(shape, int) and not isinstance(shape, bool) else tuple(shape)
    if kind == "mlp":
        if len(dims) != 1:
            raise GankitError(f"the mlp VAE models points (n, dim), got a data shape {dims}")
        return mlp_vae(
            dims[0],
            latent_dim=latent_dim,
            width=width,
            depth=depth,
            activation=activation,
            likelihood=likelihood,
        )
    if kind == "conv":
        if len(dims) != 3:
            raise GankitError(f"the conv VAE models images (n, C, H, W), got a data shape {dims}")
        channels, h, w = dims
        if h != w:
            raise GankitError(f"data.image_size: the conv VAE needs square images, got {h}x{w}")
        return conv_vae(
            channels,
            h,
            latent_dim=latent_dim,
            width=width,
            depth=depth,
            activation=activation,
            likelihood=likelihood,
        )
    raise GankitError(f"VAE kind {kind!r} is unknown; known: mlp (points), conv (images)")
