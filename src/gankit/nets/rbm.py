"""The restricted Boltzmann machine's parameters as a module, and its persistent chains.

`RBM` holds ``weight`` ``(H, V)``, ``visible_bias`` ``(V,)`` and ``hidden_bias`` ``(H,)``
(scikit-learn's ``components_``, ``intercept_visible_``, ``intercept_hidden_``) and the image
shape ``(C, H, W)`` its ``V = C * H * W`` visible units are read from, so that its samples come
out in the layout of every image family. The math (free energy, conditionals, Gibbs, CD, AIS)
is in `gankit.game.rbm`; the nets layer does not import it, and so the module only stores.

`PersistentChains` is persistent CD's state (Tieleman 2008): the chains' last hidden states
``(m, H)``, a buffer, so that a checkpoint saves it and a resumed run continues the same
chains.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

#: the standard deviation of the initial weights (scikit-learn's BernoulliRBM: N(0, 0.01^2))
INIT_STD = 0.01


class RBM(nn.Module):
    """A Bernoulli-Bernoulli RBM on images of ``shape`` ``(C, H, W)`` with ``hidden`` units;
    weights drawn from N(0, `INIT_STD`^2) (the global RNG, as every gankit net), biases 0."""

    def __init__(self, shape: tuple[int, int, int], hidden: int):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.visible = math.prod(self.shape)
        self.hidden = int(hidden)
        self.weight = nn.Parameter(torch.randn(self.hidden, self.visible) * INIT_STD)
        self.visible_bias = nn.Parameter(torch.zeros(self.visible))
        self.hidden_bias = nn.Parameter(torch.zeros(self.hidden))

    @property
    def params(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(W, b, c)`` as `gankit.game.rbm`'s functions read them."""
        return self.weight, self.visible_bias, self.hidden_bias

    def flat(self, images: Tensor) -> Tensor:
        """``(n, C, H, W)`` -> ``(n, V)``."""
        return images.reshape(images.shape[0], self.visible)

    def images(self, flat: Tensor) -> Tensor:
        """``(n, V)`` -> ``(n, C, H, W)``."""
        return flat.reshape(flat.shape[0], *self.shape)


class PersistentChains(nn.Module):
    """Persistent CD's ``chains`` ``(m, H)``: hidden states in {0, 1}, all 0 at the start
    (scikit-learn's ``h_samples_``)."""

    def __init__(self, count: int, hidden: int):
        super().__init__()
        self.register_buffer("chains", torch.zeros(int(count), int(hidden)))


__all__ = ["INIT_STD", "RBM", "PersistentChains"]
