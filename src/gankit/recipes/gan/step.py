"""The GAN's side of the loop: Algorithm 1 of Goodfellow et al. (2014) as a `Trainable`.

Two phases, ``D`` (``game.d_steps`` = k times) then ``G`` (once): each D-update reads a fresh
real minibatch and a fresh latent batch; the G-update a fresh latent batch (and, where a remedy
needs them, k fresh minibatches for unrolled GANs or a real one for feature matching). The
objective is the `~gankit.game.game.Game`'s; after a D-update the WGAN critic's weights are
clipped, after a G-update G's EMA (bias-corrected: `gankit.nets.ema.debiased_decay`) moves.

Random streams: ``data`` (minibatches, on the device the source draws on: the CPU for toys and
for datasets kept on the CPU), ``noise`` (G's latents) and ``game`` (penalties' interpolates,
instance noise, DiffAugment), both on the run's device; all three are saved in checkpoints.
With every remedy off, each step reads them as Algorithm 1 always did: per D-step a real
minibatch then a latent batch; for the G-step a latent batch.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn

from gankit.config import Config
from gankit.data.batch import Batch, Latent
from gankit.eval import EvalState
from gankit.game.game import Game
from gankit.nets.ema import IterateEma
from gankit.nets.latent import class_shares, generate, generated_classes, sample_latent
from gankit.runs import GENERATOR_EMA
from gankit.train.optim import make_optimizer
from gankit.train.trainable import Phase, Source, source_device, source_inputs, stream

#: the GAN's random streams, in the order their seeds are derived (``seed * 7919 + i``)
RNG_STREAMS = ("data", "noise", "game")


def eval_state(
    generator: nn.Module, discriminator: nn.Module, step: int, config: Config, device
) -> EvalState:
    """What the evaluator reads of a GAN: G's samples in eval mode, D read through the loss."""

    def sample(n: int, rng: torch.Generator) -> torch.Tensor:
        return generate(generator, config.model, n, rng, device)

    def sample_classes(n: int) -> torch.Tensor | None:
        return generated_classes(generator, n)

    conditional = config.model.conditional
    return EvalState(
        sample, step, discriminator, config.game.loss, sample_classes if conditional else None
    )


class GanTrainable:
    """G against D on minibatches of ``source``, on ``device`` (see the module docstring)."""

    progress = (("d", "d_loss"), ("g", "g_loss"))
    loss_keys = ("d_loss", "g_loss")

    def __init__(
        self,
        config: Config,
        source: Source,
        generator: nn.Module,
        discriminator: nn.Module,
        device: torch.device,
    ):
        self.cfg = config
        self.source = source
        self.inputs = source_inputs(source)
        self.device = device
        self.memory_format = (
            torch.channels_last if config.train.channels_last else torch.contiguous_format
        )
        self.G = generator.to(device, memory_format=self.memory_format)
        self.D = discriminator.to(device, memory_format=self.memory_format)
        self._shares = class_shares(self.G)  # a conditional G's class prior, else None
        self.ema = IterateEma.of(self.G, config.model.ema)
        seed = config.train.seed
        devices = {"data": source_device(source), "noise": device, "game": device}
        self.rngs = {name: stream(seed, i, devices[name]) for i, name in enumerate(RNG_STREAMS)}
        self.game = Game(
            config.game,
            generator=self.rngs["game"],
            model=config.model,
            total_steps=config.train.steps,
        )
        self.game.check_discriminator(self.D)
        o = config.optim
        self.opt_d = make_optimizer(self.D.parameters(), o.lr_d, o)
        self.opt_g = make_optimizer(self.G.parameters(), o.lr_g, o)
        self.d_update = 0
        self.phases = (
            Phase("D", self.opt_d, self.D, o.lr_d, "lr_d", "grad_norm_d", config.game.d_steps),
            Phase("G", self.opt_g, self.G, o.lr_g, "lr_g", "grad_norm_g"),
        )

    # -------------------------------------------------------------------- state

    @property
    def modules(self) -> dict[str, nn.Module]:
        modules = {"G": self.G, "D": self.D}
        if self.ema is not None:
            modules[GENERATOR_EMA] = self.ema.module
        return modules

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_d": self.opt_d, "opt_g": self.opt_g}

    def eval_state(self, step: int) -> EvalState:
        """What the evaluator reads at ``step``: G's samples (its EMA where kept) in eval mode,
        D read through the loss."""
        return eval_state(self.sampler, self.D, step, self.cfg, self.device)

    @property
    def sampler(self) -> nn.Module:
        """The generator used for evaluation and sampling: the EMA copy where configured."""
        return self.G if self.ema is None else self.ema.module

    def train(self, mode: bool = True) -> None:
        self.G.train(mode)
        self.D.train(mode)

    # -------------------------------------------------------------------- Algorithm 1

    def latent(self, n: int) -> Latent:
        """``n`` latents from the noise stream (with a conditional G's classes)."""
        return sample_latent(n, self.cfg.model, self.rngs["noise"], self.device, self._shares)

    def real(self, m: int) -> Batch:
        """A real minibatch of ``m`` from the data stream, on the run's device."""
        real = self.source.batch(m, self.rngs["data"]).to(self.device, non_blocking=True)
        if self.memory_format is torch.channels_last and real.x.ndim == 4:
            real = real.with_x(real.x.contiguous(memory_format=torch.channels_last))
        return real

    def autocast(self) -> AbstractContextManager:
        """bfloat16 autocast of the forward passes where ``train.precision = "bf16"``."""
        if self.cfg.train.precision != "bf16":
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def begin(self, step: int) -> None:
        self.game.set_step(step)
        self.d_update = step * self.cfg.game.d_steps  # D's updates so far, a function of step

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, torch.Tensor]:
        m = self.cfg.train.batch_size
        if phase == "D":
            loss, stats = self.discriminator_loss(m)
        else:
            with self.autocast():
                loss, stats = self.generator_loss(m)
        loss.backward()
        return stats

    def discriminator_loss(self, m: int):
        """D's loss on a fresh real minibatch and a generated one (G not differentiated)."""
        real = self.real(m)
        with self.autocast():
            with torch.no_grad():
                fake = self.game.fake(self.G, self.latent(m))
            loss = self.game.discriminator_loss(self.D, real, fake, self.d_update)
        self.d_update += 1
        return loss

    def generator_loss(self, m: int):
        """G's loss: against D, or against D unrolled ``game.unroll`` steps on fresh minibatches
        (drawn first, real then latents per step); a real minibatch only for feature matching."""
        d_for_g = self.D
        k = self.cfg.game.unroll
        if k > 0:
            batches = []
            for _ in range(k):
                real = self.real(m)
                batches.append((real, self.game.fake(self.G, self.latent(m))))
            d_for_g = self.game.unrolled(self.D, batches, self.opt_d)
        real = self.real(m) if self.game.needs_real_for_g else None
        fake = self.game.fake(self.G, self.latent(m))
        return self.game.generator_loss(d_for_g, fake, real=real)

    def after_update(self, phase: str, step: int) -> None:
        if phase == "D":
            self.game.after_discriminator_step(self.D)
        elif self.ema is not None:
            self.ema.after_update(step)

    def extra_row(self) -> dict[str, float]:
        """The parameters of nets small enough to log them (Dirac-GAN)."""
        row: dict[str, float] = {}
        for net in (self.G, self.D):
            readout = getattr(net, "readout", None)
            if readout is not None:
                row.update(readout())
        return row
