"""The semi-supervised GAN's discriminator (Salimans et al. 2016, sec. 5): DCGAN's D body with a
K-logit class head.

D classifies an image into K real classes or "generated"; the generated class's logit is fixed
at 0, so the head has K outputs (`gankit.game.semisupervised` reads them: ``D(x) = Z / (Z + 1)``
with ``Z = sum_k exp l_k``). The body and its ``features(x)`` are DCGAN's (`DCGANDiscriminator`,
which feature matching reads); ``score(f)`` is the ``(n, K)`` class logits instead of one raw
score. `RealScore` reads such a D as one score per image, ``log Z(x)``, the logit of D(x), so
that the image evaluator's read-outs (through the sigmoid losses) see the probability of real.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _torch_spectral_norm

from gankit.nets.dcgan import INIT_STD, DCGANDiscriminator


class SemiSupervisedDiscriminator(DCGANDiscriminator):
    """D: images ``(n, C, S, S)`` in [-1, 1] -> class logits ``(n, K)``.

    The DCGAN body of `DCGANDiscriminator` (``width``, ``norm``, ``extra_layers``,
    ``spectral_norm``, ``hidden`` as there; no packing, minibatch layers or projection: each
    image is classified alone), ``features(x) -> (n, F)`` unchanged, and a linear head
    ``F -> K`` (``score``), drawn from N(0, 0.02^2) like every DCGAN layer. With ``hidden > 0``
    the features feature matching reads are those of the fully-connected layer, as in
    Salimans et al.'s fully-connected MNIST D (there its last hidden layer of 250 units)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int,
        width: int = 64,
        norm: str = "batch",
        *,
        spectral_norm: bool = False,
        extra_layers: int = 0,
        hidden: int = 0,
    ):
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        super().__init__(
            channels,
            image_size,
            width,
            norm,
            spectral_norm=spectral_norm,
            extra_layers=extra_layers,
            hidden=hidden,
        )
        self.num_classes = num_classes
        self.score_head = nn.Linear(self.feature_dim, num_classes)
        with torch.no_grad():
            nn.init.normal_(self.score_head.weight, 0.0, INIT_STD)
            nn.init.zeros_(self.score_head.bias)
        if spectral_norm:
            _torch_spectral_norm(self.score_head)
        self.hidden_noise = 0.0
        self.noise_generator: torch.Generator | None = None
        for layer in (*self.body, *self.hidden.children()):  # hidden = 0: nn.Identity, none
            if isinstance(layer, nn.LeakyReLU):
                layer.register_forward_hook(self._add_hidden_noise)

    def set_hidden_noise(self, std: float, generator: torch.Generator | None) -> None:
        """In training mode, add Gaussian noise of ``std`` drawn from ``generator`` after each of
        the body's activations and the fully-connected layer's (Salimans et al.'s MNIST D: 0.5);
        0 or no generator: none."""
        self.hidden_noise, self.noise_generator = float(std), generator

    def _add_hidden_noise(self, layer: nn.Module, inputs, h: Tensor) -> Tensor | None:
        """A forward hook on each activation of the body and the fully-connected layer: ``h``
        plus the hidden noise in training mode (set by :meth:`set_hidden_noise`), else
        ``h`` unchanged (None)."""
        if not (self.training and self.hidden_noise > 0 and self.noise_generator is not None):
            return None
        noise = torch.randn(h.shape, generator=self.noise_generator, device=h.device)
        return h + self.hidden_noise * noise.to(h.dtype)

    def score(self, f: Tensor, y: Tensor | None = None) -> Tensor:
        """``(n, F) -> (n, K)``: the class logits of features from :meth:`features`."""
        if y is not None:
            raise ValueError("the semi-supervised D classifies: it takes no classes y")
        return self.score_head(f)


class RealScore(nn.Module):
    """A K-logit D read as one raw score per image, ``(n, 1)``: ``log Z(x) = LSE_k l_k(x)``,
    the logit of ``D(x) = Z / (Z + 1)`` (so ``sigmoid`` of it is the probability of real)."""

    pointwise = True

    def __init__(self, discriminator: SemiSupervisedDiscriminator):
        super().__init__()
        self.discriminator = discriminator

    def forward(self, x: Tensor) -> Tensor:
        return torch.logsumexp(self.discriminator(x), dim=1, keepdim=True)


__all__ = ["RealScore", "SemiSupervisedDiscriminator"]
