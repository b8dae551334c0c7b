"""Instance noise: Gaussian noise on every input of the discriminator, annealed to zero.

Sønderby et al. (2017, "Amortised MAP inference for image super-resolution") and Arjovsky &
Bottou (2017, "Towards principled methods for training GANs"): when the
data and the generator's distribution live on disjoint low-dimensional sets a perfect
discriminator exists and its gradients vanish; adding ``N(0, sigma^2 I)`` to both the real and
the generated samples makes their supports overlap, so the game is played between the two
noise-convolved distributions. ``sigma`` is annealed to 0 so that the end of training matches
the data itself.

The schedule is a pure function of the step (a resume is exact); the noise is drawn from the
game's own random stream.
"""

from __future__ import annotations

import torch
from torch import Tensor


def instance_noise_std(step: int, std: float, anneal_steps: int) -> float:
    """Noise std at ``step`` (0-based): ``std`` at step 0, falling linearly to 0 at
    ``anneal_steps`` and staying 0 after; ``anneal_steps <= 0`` keeps ``std`` constant."""
    if std <= 0.0:
        return 0.0
    if anneal_steps <= 0:
        return float(std)
    return float(std) * max(0.0, 1.0 - step / anneal_steps)


def add_instance_noise(
    x: Tensor, std: float, scale: Tensor | float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    """``x + std * scale * eps``, ``eps ~ N(0, I)`` of ``x``'s shape drawn from ``generator``.

    ``x``: ``(n, ...)`` samples in data units; ``scale``: the data's per-feature standard scale
    (D's ``standardize.scale``, broadcast over the batch) so that ``std`` is in standard units.
    Gradients flow through ``x`` (G is trained against the noisy discriminator input too)."""
    eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + (std * eps) * scale
