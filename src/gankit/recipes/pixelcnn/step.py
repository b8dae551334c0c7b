"""PixelCNN's side of the loop: one phase, maximum likelihood (van den Oord et al. 2016).

Per step: a real minibatch (the ``data`` stream) in [-1, 1], binarised (`gankit.data.binarize`:
``pixelcnn.binarize``; a stochastic binarisation draws from the ``noise`` stream), the net's
logits, and the mean negative log-likelihood in nats per image (`gankit.game.autoregressive`).
Logged: ``loss`` and ``nll`` (the same number: nats per image on training bits) and
``bits_per_dim``. Each evaluation adds ``heldout_nll_nats`` and ``heldout_bits_per_dim`` on the
held-out split binarised once (`gankit.data.binarize.binarize_heldout`; its first
`EVAL_HELDOUT_MAX` images).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.data.binarize import binarize, binarize_heldout, from_binary
from gankit.data.checks import to_net
from gankit.eval import EvalState
from gankit.game.autoregressive import (
    bits_per_dim,
    image_log_likelihood,
    likelihood_stats,
    negative_log_likelihood_loss,
    sample_raster,
)
from gankit.nets.pixelcnn import PixelCNN
from gankit.train.optim import make_optimizer
from gankit.train.trainable import (
    SingleModelTrainable,
    Source,
    source_device,
    source_inputs,
    stream,
)

#: PixelCNN's random streams, in the order their seeds are derived (as the VAE's)
RNG_STREAMS = ("data", "noise")
#: images per pass of sampling and of held-out scoring
BATCH = 1000
#: held-out images scored at each evaluation (the first ones; the final metrics score all):
#: MNIST's 10,000 cost about a minute on one CPU core, the digits' 297 are all read
EVAL_HELDOUT_MAX = 2000


def pixelcnn_samples(
    net: PixelCNN, n: int, rng: torch.Generator, output: str = "bits", batch: int = BATCH
) -> Tensor:
    """``(n, 1, H, W)`` float32 CPU samples in [-1, 1], drawn pixel by pixel (H * W passes per
    batch of ``batch``) from ``rng``: the bits drawn (``output = "bits"``) or each pixel's
    probability given the bits before it (``"means"``), mapped by `from_binary`."""
    device = next(net.parameters()).device
    out = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        bits, means = sample_raster(net, m, net.shape, rng, net.reach, device)
        out.append(from_binary(means if output == "means" else bits).float().cpu())
    return torch.cat(out)


@torch.no_grad()
def heldout_bits(images, mode: str) -> Tensor:
    """The held-out split (as stored: uint8, or float in [0, 1]) binarised once, the same bits
    for every model (`binarize_heldout`)."""
    return binarize_heldout(to_net(images), mode)


@torch.no_grad()
def log_likelihoods(net: PixelCNN, bits: Tensor, batch: int = BATCH) -> Tensor:
    """``(N,)`` float64 CPU: log p(x) in nats of each {0, 1} image of ``bits``, exact."""
    device = next(net.parameters()).device
    out = []
    for start in range(0, bits.shape[0], batch):
        x = bits[start : start + batch].to(device)
        out.append(image_log_likelihood(net(x).float(), x).double().cpu())
    return torch.cat(out)


def heldout_metrics(net: PixelCNN, bits: Tensor, prefix: str = "heldout_") -> dict[str, float]:
    """``{prefix}nll_nats`` (mean -log p(x) over ``bits``, nats per image) and
    ``{prefix}bits_per_dim``, the net in eval mode."""
    was_training = net.training
    net.eval()
    try:
        nll = float(-log_likelihoods(net, bits).mean())
    finally:
        net.train(was_training)
    return {f"{prefix}nll_nats": nll, f"{prefix}bits_per_dim": bits_per_dim(nll, bits[0].numel())}


class PixelCnnTrainable(SingleModelTrainable):
    """A PixelCNN on binarised minibatches of ``source``, on ``device`` (see the module
    docstring); ``heldout``: the held-out bits, of which each evaluation scores the first
    `EVAL_HELDOUT_MAX` (None: no such metric)."""

    progress = (("nll", "nll"), ("bits/dim", "bits_per_dim"))

    def __init__(
        self,
        config: Config,
        source: Source,
        net: PixelCNN,
        device: torch.device,
        heldout: Tensor | None = None,
    ):
        self.cfg = config
        self.section = config.section("pixelcnn")
        self.source = source
        self.inputs = source_inputs(source)
        self.device = device
        self.net = net.to(device)
        self.heldout = None if heldout is None else heldout[:EVAL_HELDOUT_MAX]
        seed = config.train.seed
        devices = {"data": source_device(source), "noise": device}
        rngs = {name: stream(seed, i, devices[name]) for i, name in enumerate(RNG_STREAMS)}
        opt = make_optimizer(self.net.parameters(), self.section.lr, config.optim)
        super().__init__(self.net, opt, self.section.lr, rngs, name="pixelcnn")

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        m = self.cfg.train.batch_size
        x = self.source.batch(m, self.rngs["data"]).x.to(self.device, non_blocking=True)
        bits = binarize(x, self.section.binarize, self.rngs["noise"])
        logits = self.net(bits)
        loss = negative_log_likelihood_loss(logits, bits)
        loss.backward()
        return {"loss": loss.detach(), **likelihood_stats(logits, bits)}

    def eval_state(self, step: int) -> EvalState:
        """What the evaluator reads of a PixelCNN: its samples (``pixelcnn.samples``) and the
        held-out likelihood; no discriminator to read out."""
        output = self.section.samples
        metrics = None
        if self.heldout is not None:
            heldout = self.heldout

            def metrics() -> dict[str, float]:
                return heldout_metrics(self.net, heldout)

        return EvalState(
            lambda n, rng: pixelcnn_samples(self.net, n, rng, output),
            step,
            family_metrics=metrics,
        )
