"""BiGAN / ALI's side of the loop: the joint D against G and E together, as a `Trainable`.

Two phases, as Algorithm 1 of the GAN: ``D`` (``game.d_steps`` times), then ``G`` (G and E,
one update of one optimizer over both, at ``optim.lr_g``; checkpoints name them ``G``, ``E``
and the optimizer ``opt_g``). Each phase draws a fresh real minibatch x (the ``data``
stream), then a fresh code batch z (``model.noise``, ``model.noise_dim``) and, for ALI's
stochastic encoder (``bigan.stochastic_encoder``), the encoder's ``eps`` (both from the
``noise`` stream); D's dropout masks come from the ``game`` stream.

Phase ``D``: `gankit.game.bigan.discriminator_loss` of ``game.loss`` on ``D(x, E(x))`` (real
pairs) against ``D(G(z), z)`` (generated pairs), G and E not differentiated. Phase ``G``:
`gankit.game.bigan.generator_encoder_loss` (the labels swapped), differentiated through G and
E, plus, with ``bigan.cycle_weight`` > 0, that weight times the mean squared error of G(E(x))
against x (ALICE's explicit cycle consistency, Li et al. 2017; logged as ``cycle_l2``).
Logged: ``d_loss``, ``g_loss`` (G and E's loss), ``d_real`` / ``d_fake`` (D's read-out on the
real and generated pairs of the D phase: probabilities for the sigmoid losses).

What the evaluator reads (`BiGanTrainable.eval_state`): G's samples at codes drawn from the
prior (the evaluator of the data's kind, unchanged) and the family's metrics
(`gankit.recipes.bigan.evaluation`): reconstructions and linear probes. D reads pairs, not
points: no D read-out is asked of the evaluator.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import torch
from torch import Tensor, nn

from gankit.config import Config, ModelConfig
from gankit.eval import EvalState
from gankit.game.bigan import (
    discriminator_loss,
    generator_encoder_loss,
    reconstruction_l2,
    reparameterize,
)
from gankit.game.losses import d_readout, get_loss
from gankit.nets.latent import eval_mode, sample_noise
from gankit.train.optim import make_optimizer
from gankit.train.trainable import Phase, Source, source_device, source_inputs, stream

#: BiGAN's random streams, in the order their seeds are derived (as the GAN's)
RNG_STREAMS = ("data", "noise", "game")
#: codes per forward pass when sampling
SAMPLE_BATCH = 4096


@torch.no_grad()
def bigan_samples(
    generator: nn.Module,
    model: ModelConfig,
    n: int,
    rng: torch.Generator,
    batch: int = SAMPLE_BATCH,
) -> Tensor:
    """``(n, ...)`` float32 CPU samples of G in eval mode at codes drawn from the prior
    (``model.noise``) from ``rng`` (where it lives), in batches of ``batch``."""
    device = next(generator.parameters()).device
    out = []
    with eval_mode(generator):
        for start in range(0, n, batch):
            z = sample_noise(min(batch, n - start), model.noise_dim, model.noise, rng, device)
            out.append(generator(z).float().cpu())
    return torch.cat(out)


class BiGanTrainable:
    """G and E against the joint D on minibatches of ``source`` (see the module docstring);
    ``family_metrics(trainable, step)``: the family's metrics at an evaluation (None: none)."""

    progress = (("d", "d_loss"), ("g", "g_loss"))
    loss_keys = ("d_loss", "g_loss")

    def __init__(
        self,
        config: Config,
        source: Source,
        generator: nn.Module,
        encoder: nn.Module,
        discriminator: nn.Module,
        device: torch.device,
        family_metrics: Callable[[BiGanTrainable, int], dict] | None = None,
    ):
        self.cfg = config
        self.section = config.section("bigan")
        self.source = source
        self.inputs = source_inputs(source)
        self.device = device
        self.G, self.E, self.D = generator.to(device), encoder.to(device), discriminator.to(device)
        self.loss = get_loss(config.game.loss)
        seed = config.train.seed
        devices = {"data": source_device(source), "noise": device, "game": device}
        self.rngs = {name: stream(seed, i, devices[name]) for i, name in enumerate(RNG_STREAMS)}
        o = config.optim
        self.opt_d = make_optimizer(self.D.parameters(), o.lr_d, o)
        self.opt_g = make_optimizer(chain(self.G.parameters(), self.E.parameters()), o.lr_g, o)
        self._ge = nn.ModuleDict({"G": self.G, "E": self.E})  # the G phase's gradient norm
        self.phases = (
            Phase("D", self.opt_d, self.D, o.lr_d, "lr_d", "grad_norm_d", config.game.d_steps),
            Phase("G", self.opt_g, self._ge, o.lr_g, "lr_g", "grad_norm_g"),
        )
        self._family_metrics = family_metrics

    @property
    def modules(self) -> dict[str, nn.Module]:
        return {"G": self.G, "E": self.E, "D": self.D}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_d": self.opt_d, "opt_g": self.opt_g}

    def train(self, mode: bool = True) -> None:
        for net in self.modules.values():
            net.train(mode)

    def begin(self, step: int) -> None:
        pass

    def _pairs(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(x, E(x), G(z), z)`` of a fresh real minibatch and code batch (with grad)."""
        m = self.cfg.train.batch_size
        x = self.source.batch(m, self.rngs["data"]).x.to(self.device, non_blocking=True)
        model, noise = self.cfg.model, self.rngs["noise"]
        z = sample_noise(m, model.noise_dim, model.noise, noise, self.device)
        mean, log_var = self.E.moments(x)
        code = mean
        if log_var is not None:
            eps = sample_noise(m, model.noise_dim, "normal", noise, self.device)
            code = reparameterize(mean, log_var, eps)
        return x, code, self.G(z), z

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        game = self.rngs["game"]
        if phase == "D":
            with torch.no_grad():
                x, ex, gz, z = self._pairs()
            real, fake = self.D(x, ex, game), self.D(gz, z, game)
            loss = discriminator_loss(self.loss, real, fake)
            loss.backward()
            return {
                "d_loss": loss.detach(),
                "d_real": d_readout(self.loss, real.detach()).mean(),
                "d_fake": d_readout(self.loss, fake.detach()).mean(),
            }
        x, ex, gz, z = self._pairs()
        loss = generator_encoder_loss(self.loss, self.D(x, ex, game), self.D(gz, z, game))
        stats = {"g_loss": loss.detach()}
        weight = self.section.cycle_weight
        if weight > 0:  # ALICE's explicit cycle consistency through G(E(x))
            cycle = reconstruction_l2(x, self.G(ex))
            loss = loss + weight * cycle
            stats["cycle_l2"] = cycle.detach()
        loss.backward()
        return stats

    def after_update(self, phase: str, step: int) -> None:
        pass

    def extra_row(self) -> dict[str, float]:
        return {}

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        return bigan_samples(self.G, self.cfg.model, n, rng)

    def eval_state(self, step: int) -> EvalState:
        """G's samples and the family's metrics at ``step``; no D read-out (D reads pairs)."""
        family = None
        if self._family_metrics is not None:

            def family() -> dict:
                return self._family_metrics(self, step)

        return EvalState(self.sample, step, family_metrics=family)
