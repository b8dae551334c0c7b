"""A deterministic autoencoder whose decoder, fed Gaussian codes, is a generator.

"Cut off the decoder, feed it Gaussian codes": the encoder ``E`` and decoder ``D`` are trained
by reconstruction alone (no prior on the codes); afterwards a Gaussian ``N(m, S)`` (mean, full
covariance) is fitted to the codes ``E(x)`` of the training set and samples are ``D(c)`` with
``c ~ N(m, S)``. The fitted Gaussian lives in buffers (``code_mean``, ``code_scale_tril``, the
Cholesky factor of ``S``), so checkpoints carry it and a loaded run samples without its data;
the fit itself (the moments of the codes) is `gankit.game.pca.moments`, called by the family's
trainable.

The nets are the VAE's (`gankit.nets.vae.build_vae`: a convolutional encoder and decoder for
images, MLPs with standard units fitted to the data for points), with the encoder's last layer
giving the ``latent_dim`` code instead of a mean and a log-variance. The decoder's output is a
reconstruction in the nets' convention: images in [-1, 1] (clamped when sampled), points in
data units.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.nets.mlp import Standardize
from gankit.nets.vae import build_vae


class Autoencoder(nn.Module):
    """``encode(x) -> (n, latent_dim)``, ``decode(c) -> (n, *data_shape)``, ``sample(n, g)``
    from the code Gaussian (the standard normal until :meth:`set_code_gaussian`)."""

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        latent_dim: int,
        data_shape: tuple[int, ...],
        standardize: Standardize | None = None,
    ):
        super().__init__()
        self.encoder, self.decoder, self.standardize = encoder, decoder, standardize
        self.latent_dim = int(latent_dim)
        self.data_shape = tuple(data_shape)
        self.images = len(self.data_shape) == 3
        self.register_buffer("code_mean", torch.zeros(self.latent_dim))
        self.register_buffer("code_scale_tril", torch.eye(self.latent_dim))

    def encode(self, x: Tensor) -> Tensor:
        """``(n, *data_shape) -> (n, latent_dim)`` codes of ``x`` in the nets' convention."""
        h = self.standardize(x) if self.standardize is not None else x
        return self.encoder(h)

    def decode(self, c: Tensor) -> Tensor:
        """``(n, latent_dim) -> (n, *data_shape)`` reconstructions in the nets' convention."""
        out = self.decoder(c).reshape(c.shape[0], *self.data_shape)
        return self.standardize.inverse(out) if self.standardize is not None else out

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    @torch.no_grad()
    def set_code_gaussian(self, mean: Tensor, covariance: Tensor) -> None:
        """Sample codes from ``N(mean (d,), covariance (d, d))`` from now on; the covariance
        gets a jitter of 1e-6 of its mean variance where it is singular (codes on a subspace)."""
        cov = covariance.double()
        jitter = 1e-6 * cov.diagonal().mean().clamp_min(1e-12)
        eye = torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)
        chol, info = torch.linalg.cholesky_ex(cov)
        if int(info) != 0:
            chol = torch.linalg.cholesky(cov + jitter * eye)
        self.code_mean.copy_(mean.to(self.code_mean))
        self.code_scale_tril.copy_(chol.to(self.code_scale_tril))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``(n, *data_shape)`` decodings of codes ``m + L eps`` (``eps`` from ``generator``,
        on the buffers' device); images clamped to [-1, 1]."""
        eps = torch.randn(
            (n, self.latent_dim),
            generator=generator,
            device=self.code_mean.device,
            dtype=self.code_mean.dtype,
        )
        x = self.decode(self.code_mean + eps @ self.code_scale_tril.T)
        return x.clamp(-1.0, 1.0) if self.images else x


def _code_head(linear: nn.Linear, latent_dim: int) -> nn.Linear:
    """A fresh ``Linear(in, latent_dim)`` in place of the VAE's ``Linear(in, 2 latent_dim)``."""
    return nn.Linear(linear.in_features, latent_dim)


def build_autoencoder(
    kind: str,
    shape: int | tuple[int, ...],
    *,
    latent_dim: int,
    width: int,
    depth: int,
    activation: str,
) -> Autoencoder:
    """The autoencoder of a kind of data on the VAE's nets (`gankit.nets.vae.build_vae`:
    ``"mlp"`` for points, ``"conv"`` for square images), its encoder's head giving the code;
    errors name the ``[vae]`` key the VAE builder checks, which the ``autoencoder`` recipe's
    keys of the same names mirror (`gankit.recipes.autoencoder`)."""
    vae = build_vae(
        kind,
        shape,
        latent_dim=latent_dim,
        width=width,
        depth=depth,
        likelihood="gaussian",
        activation=activation,
    )
    encoder = vae.encoder
    if kind == "mlp":
        encoder.net[-1] = _code_head(encoder.net[-1], latent_dim)
    else:
        encoder[-1] = _code_head(encoder[-1], latent_dim)
    return Autoencoder(encoder, vae.decoder, latent_dim, vae.data_shape, vae.standardize)


__all__ = ["Autoencoder", "build_autoencoder"]
