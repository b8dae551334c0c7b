"""The autoencoder's side of the loop: one phase, the reconstruction error; and the Gaussian of
its codes, which turns the decoder into a generator.

Per step: a real minibatch ``x`` (the ``data`` stream), ``loss`` = the mean squared error of
``decode(encode(x))`` per value (in the nets' units: [-1, 1] pixels, data units for points). The
code Gaussian (mean and full covariance of the codes of the fit set,
`gankit.recipes.fit_set.training_points`, by `gankit.game.pca.moments`) is fitted again,
encoder in eval mode, before each evaluation samples and at each checkpoint step and the last
step, so that every checkpoint carries one fitted to its own weights.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.eval import EvalState
from gankit.game.pca import moments
from gankit.nets.autoencoder import Autoencoder
from gankit.train.optim import make_optimizer
from gankit.train.trainable import (
    SingleModelTrainable,
    Source,
    source_device,
    source_inputs,
    stream,
)

#: the autoencoder's random streams, in the order their seeds are derived
RNG_STREAMS = ("data",)
#: examples encoded at once when fitting the code Gaussian
ENCODE_BATCH = 2048


@torch.no_grad()
def encode_all(model: Autoencoder, points: Tensor, device, batch: int = ENCODE_BATCH) -> Tensor:
    """``(N, latent_dim)`` float64 CPU codes of ``points`` (eval mode, restored after)."""
    was_training = model.training
    model.eval()
    try:
        codes = [
            model.encode(points[i : i + batch].to(device)).double().cpu()
            for i in range(0, points.shape[0], batch)
        ]
    finally:
        model.train(was_training)
    return torch.cat(codes)


def fit_code_gaussian(model: Autoencoder, points: Tensor, device) -> None:
    """Fit ``model``'s code Gaussian to the codes of ``points`` (see the module docstring)."""
    mean, cov = moments(encode_all(model, points, device))
    model.set_code_gaussian(mean, cov)


class AutoencoderTrainable(SingleModelTrainable):
    """An autoencoder on minibatches of ``source``; ``fit_points``: what its code Gaussian is
    fitted to (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        source: Source,
        model: Autoencoder,
        fit_points: Tensor,
        device: torch.device,
    ):
        self.cfg = config
        self.section = config.section("autoencoder")
        self.source = source
        self.inputs = source_inputs(source)
        self.device = device
        self.model = model.to(device)
        self.fit_points = fit_points
        self.fitted_at: int | None = None
        seed = config.train.seed
        rngs = {"data": stream(seed, 0, source_device(source))}
        opt = make_optimizer(self.model.parameters(), self.section.lr, config.optim)
        super().__init__(self.model, opt, self.section.lr, rngs, name="autoencoder")

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        m = self.cfg.train.batch_size
        x = self.source.batch(m, self.rngs["data"]).x.to(self.device, non_blocking=True)
        loss = torch.nn.functional.mse_loss(self.model(x), x)
        loss.backward()
        return {"loss": loss.detach()}

    def refit(self, step: int) -> None:
        """The code Gaussian of the weights at ``step`` (once per step)."""
        if self.fitted_at != step:
            fit_code_gaussian(self.model, self.fit_points, self.device)
            self.fitted_at = step

    def after_update(self, phase: str, step: int) -> None:
        done = step + 1
        if done % self.cfg.train.checkpoint_every == 0 or done == self.cfg.train.steps:
            self.refit(done)

    def eval_state(self, step: int) -> EvalState:
        """Decodings of codes from the Gaussian fitted to the codes at ``step``."""
        self.refit(step)

        def sample(n: int, rng: torch.Generator) -> Tensor:
            was_training = self.model.training
            self.model.eval()
            try:
                out = self.model.sample(n, _on(rng, self.device)).float().cpu()
            finally:
                self.model.train(was_training)
            return out

        return EvalState(sample, step)


def _on(rng: torch.Generator, device) -> torch.Generator:
    """``rng`` where it can draw on ``device``: itself on its device, else a generator there
    seeded from it (an evaluation's CPU stream sampling a CUDA model)."""
    if torch.device(device).type == rng.device.type:
        return rng
    seed = int(torch.randint(0, 2**62, (1,), generator=rng))
    return torch.Generator(device=device).manual_seed(seed)
