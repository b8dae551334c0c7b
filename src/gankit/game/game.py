"""The game: the objective (loss + penalties + clipping) of both players, nothing of scheduling.

`Game` computes each player's loss from the nets it is handed; the `Trainer` decides when to call
it, backpropagates and steps the optimizers. The discriminator's loss takes an optional score
function so it can run functionally (``torch.func.functional_call`` with parameters passed in),
which unrolled GANs and stacked many-seed training build on.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gankit.config import GameConfig
from gankit.errors import GankitError
from gankit.game.losses import Loss, d_readout, get_loss
from gankit.game.penalties import Penalty, clip_weights, get_penalty

ScoreFn = Callable[[Tensor], Tensor]


class Game:
    """Goodfellow's two-player game with a chosen objective and discriminator regularisers."""

    def __init__(self, config: GameConfig, generator: torch.Generator | None = None):
        try:
            self.loss: Loss = get_loss(config.loss)
        except ValueError as exc:
            raise GankitError(f"game.loss: {exc}") from None
        self.penalties: list[tuple[Penalty, float]] = []
        for name, weight in config.penalties.items():
            try:
                penalty = get_penalty(name)
            except ValueError as exc:
                raise GankitError(f"game.penalties.{name}: {exc}") from None
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
                raise GankitError(
                    f"game.penalties.{name}: weight must be a number >= 0, got {weight!r}"
                )
            if weight > 0:
                self.penalties.append((penalty, float(weight)))
        names = {p.name for p, _ in self.penalties}
        # WGAN keeps its critic Lipschitz by clipping unless a gradient penalty does it instead.
        self.clip = config.clip if self.loss.lipschitz and "gp" not in names else None
        self.rng = generator

    def discriminator_loss(
        self, d_fn: ScoreFn, real: Tensor, fake: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss on a real and a generated minibatch (``fake`` is detached here).

        Returns the scalar loss and detached statistics: ``d_real``/``d_fake`` (probabilities for
        sigmoid losses, raw scores otherwise) and each penalty's value."""
        fake = fake.detach()
        real_scores, fake_scores = d_fn(real), d_fn(fake)
        d_loss, _ = self.loss(real_scores, fake_scores)
        stats = {
            "d_real": d_readout(self.loss, real_scores.detach()).mean(),
            "d_fake": d_readout(self.loss, fake_scores.detach()).mean(),
        }
        total = d_loss
        for penalty, weight in self.penalties:
            value = penalty.fn(d_fn, real, fake, self.rng)
            stats[f"penalty_{penalty.name}"] = value.detach()
            total = total + weight * value
        stats["d_loss"] = total.detach()
        return total, stats

    def generator_loss(self, d_fn: ScoreFn, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """G's loss on a generated minibatch (gradients flow through ``fake`` into G)."""
        fake_scores = d_fn(fake)
        # The losses' g term reads only the fake scores; the real slot is never used for it.
        _, g_loss = self.loss(fake_scores.detach(), fake_scores)
        return g_loss, {"g_loss": g_loss.detach()}

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        if self.clip is not None:
            clip_weights(discriminator, self.clip)
