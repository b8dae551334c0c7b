"""The VAE's side of the loop: one phase, the negative ELBO (Kingma & Welling 2014, eq. 10).

Per step: a real minibatch ``x`` (the ``data`` stream), ``(mu, logvar) = encode(x)``, one
reparameterised draw ``z = mu + sigma * eps`` (the ``noise`` stream), the decoder's
log-likelihood of ``x`` (Bernoulli on pixels read in [0, 1], or Gaussian with a learned scale)
minus ``KL(q(z|x) || N(0, I))`` (weighted by ``vae.kl_weight``, rising from 0 over
``vae.kl_warmup`` steps where set). Logged: ``loss`` (the minimised negative ELBO, with
``vae.kl_weight``), ``elbo``, ``reconstruction`` (E_q log p(x|z)) and ``kl``, in nats per
example, in the model's units (pixels in [0, 1] for Bernoulli, [-1, 1] for Gaussian images;
standard units for points).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.eval import EvalState
from gankit.game.elbo import (
    bernoulli_log_likelihood,
    elbo_stats,
    gaussian_kl,
    gaussian_log_likelihood,
    negative_elbo_loss,
)
from gankit.nets.vae import VAE
from gankit.train.optim import make_optimizer
from gankit.train.trainable import (
    SingleModelTrainable,
    Source,
    source_device,
    source_inputs,
    stream,
)

#: the VAE's random streams, in the order their seeds are derived (as the GAN's first two)
RNG_STREAMS = ("data", "noise")


def log_likelihood(vae: VAE, out: Tensor, x: Tensor) -> Tensor:
    """``(n,)`` log p(x|z) of the decoder's output ``out`` for ``x`` in the nets' convention."""
    target = vae.target(x)
    if vae.likelihood == "bernoulli":
        return bernoulli_log_likelihood(out, target)
    return gaussian_log_likelihood(out, vae.log_scale, target)


def elbo_terms(vae: VAE, x: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``(log p(x|z), KL)``, each ``(n,)``, with one draw of z per example from ``generator``."""
    mu, logvar = vae.encode(x)
    z = vae.reparameterize(mu, logvar, generator)
    return log_likelihood(vae, vae.decode(z), x), gaussian_kl(mu, logvar)


def kl_weight_at(step: int, weight: float, warmup: int) -> float:
    """The KL term's weight at ``step`` (0-based): ``weight * (step + 1) / warmup`` during the
    warm-up, ``weight`` after it (a pure function of the step: a resumed run is exact)."""
    if warmup > 0 and step < warmup:
        return weight * (step + 1) / warmup
    return weight


def vae_samples(vae: VAE, n: int, rng: torch.Generator, batch: int = 65536) -> Tensor:
    """``(n, ...)`` float32 CPU samples of ``vae`` (the decoder's mean at prior draws of z,
    drawn from ``rng`` where it lives, in batches of ``batch``)."""
    param = next(vae.parameters())
    out = []
    with torch.no_grad():
        for start in range(0, n, batch):
            m = min(batch, n - start)
            z = torch.randn((m, vae.latent_dim), generator=rng, device=rng.device)
            z = z.to(param.device, param.dtype)
            out.append(vae.decoder_mean(vae.decode(z)).float().cpu())
    return torch.cat(out)


class VaeTrainable(SingleModelTrainable):
    """A VAE on minibatches of ``source``, on ``device`` (see the module docstring)."""

    progress = (("elbo", "elbo"), ("kl", "kl"))

    def __init__(self, config: Config, source: Source, vae: VAE, device: torch.device):
        self.cfg = config
        self.section = config.section("vae")
        self.source = source
        self.inputs = source_inputs(source)
        self.device = device
        self.vae = vae.to(device)
        seed = config.train.seed
        devices = {"data": source_device(source), "noise": device}
        rngs = {name: stream(seed, i, devices[name]) for i, name in enumerate(RNG_STREAMS)}
        opt = make_optimizer(self.vae.parameters(), self.section.lr, config.optim)
        super().__init__(self.vae, opt, self.section.lr, rngs, name="vae")
        self.kl_weight = self.section.kl_weight

    def begin(self, step: int) -> None:
        self.kl_weight = kl_weight_at(step, self.section.kl_weight, self.section.kl_warmup)

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        m = self.cfg.train.batch_size
        x = self.source.batch(m, self.rngs["data"]).x.to(self.device, non_blocking=True)
        ll, kl = elbo_terms(self.vae, x, self.rngs["noise"])
        loss = negative_elbo_loss(ll, kl, self.kl_weight)
        loss.backward()
        return {"loss": loss.detach(), **elbo_stats(ll, kl)}

    def eval_state(self, step: int) -> EvalState:
        """What the evaluator reads of a VAE: its samples; no discriminator to read out."""
        return EvalState(lambda n, rng: vae_samples(self.vae, n, rng), step)
