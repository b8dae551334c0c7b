"""The RBM's side of the loop: one phase, the contrastive-divergence update (Hinton 2002;
persistent CD, Tieleman 2008), and sampling by Gibbs chains.

Per step: a minibatch of training images as visible bits ``v`` ``(m, V)`` (the ``data``
stream: which images, and their stochastic bits; `BinaryImages`), then `gankit.game.rbm.
cd_estimate` on the ``chain`` stream (CD-k chains started at the data, or the persistent
chains, a buffer of the ``chains`` module). The CD estimate of the log-likelihood gradient is
not the gradient of any loss, so the step sets each parameter's ``.grad`` to minus it, and the
loop's optimizer (``optim.name``, SGD as scikit-learn) steps it. A logged step adds ``loss``:
the free-energy gap ``mean F(v_data) - mean F(v_chains)``, the surrogate whose gradient (chains
held fixed) is that update, in nats per example.

On a 2-D toy the visible bits are the minibatch's points on the grid of
`gankit.data.discretize` (`BinaryPoints`: fresh points from the toy's source each step, as every
toy family's minibatches), and samples are the chains' last sweep's bits, not their means,
decoded to points (`gibbs_points`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.config import Config
from gankit.data.binarize import binarize, binarize_heldout, from_binary, to_unit_interval
from gankit.data.checks import to_net
from gankit.data.discretize import PointGrid
from gankit.eval import EvalState
from gankit.game import rbm as rbm_math
from gankit.nets.rbm import RBM, PersistentChains
from gankit.recipes.rbm.config import RbmConfig
from gankit.train.optim import make_optimizer
from gankit.train.trainable import SingleModelTrainable, source_device, stream

#: the RBM's random streams, in the order their seeds are derived
RNG_STREAMS = ("data", "chain")


class BinaryImages:
    """A split's images as the RBM's visible units, kept once as ``(N, V)``: threshold bits,
    or intensities in [0, 1] whose bits each minibatch draws afresh (`gankit.data.binarize`
    conventions). ``batch(m, generator)`` draws ``m`` rows uniformly with replacement (as
    `gankit.data.datasets.ImageSource`), then their bits, both from ``generator``."""

    def __init__(self, images, mode: str, device="cpu"):
        x = to_net(images)  # (N, C, H, W) in [-1, 1]
        flat = x.reshape(x.shape[0], -1)
        self.mode = mode
        self.values = binarize(flat, "threshold") if mode == "threshold" else to_unit_interval(flat)
        self.values = self.values.to(device).contiguous()

    def __len__(self) -> int:
        return self.values.shape[0]

    def batch(self, m: int, generator: torch.Generator) -> Tensor:
        index = torch.randint(len(self), (m,), generator=generator, device=self.values.device)
        rows = self.values[index]
        if self.mode == "threshold":
            return rows
        return torch.bernoulli(rows, generator=generator)


class BinaryPoints:
    """A toy's training points as the RBM's visible units: ``batch(m, generator)`` draws ``m``
    points from ``source`` (`gankit.data.sources`: fresh from the toy, or ``data.train_size``'s
    fixed set) and writes them as ``(m, 2 * bits)`` bits of ``grid`` on ``device``."""

    def __init__(self, source, grid: PointGrid, device="cpu"):
        self.source, self.grid, self.device = source, grid, torch.device(device)
        #: where the ``data`` stream must live: where the source draws
        self.rng_device = source_device(source)

    def batch(self, m: int, generator: torch.Generator) -> Tensor:
        return self.grid.encode(self.source.batch(m, generator).x).to(self.device)


def fixed_bits(images, mode: str) -> Tensor:
    """``(N, V)`` a split's one fixed binarisation (`gankit.data.binarize.binarize_heldout`: the
    same bits for every model and call): what the likelihoods are measured on."""
    x = to_net(images)
    return binarize_heldout(x.reshape(x.shape[0], -1), mode)


@torch.no_grad()
def gibbs_samples(
    model: RBM,
    n: int,
    steps: int,
    rng: torch.Generator,
    record: tuple[int, ...] = (),
    batch: int = 8192,
) -> tuple[Tensor, list[Tensor]]:
    """``(n, C, H, W)`` float32 CPU samples in [-1, 1]: ``n`` Gibbs chains from uniform random
    bits (drawn from ``rng`` where it lives), ``steps`` sweeps each, the last sweep's means
    ``p(v|h)``; with ``record``, also the means after each of those sweep counts (0: the
    random start), each ``(n, C, H, W)``, for a strip along the chains."""
    W, b, c = model.params
    if rng.device != W.device:  # the chains run where the model is, seeded from ``rng``
        seed = int(torch.randint(2**62, (1,), generator=rng, device=rng.device))
        rng = torch.Generator(device=W.device).manual_seed(seed)
    out, strips = [], [[] for _ in record]
    for start in range(0, n, batch):
        m = min(batch, n - start)
        half = torch.full((m, model.visible), 0.5, device=W.device, dtype=W.dtype)
        v = torch.bernoulli(half, generator=rng)
        mean = v
        for step in range(steps + 1):
            if step in record:
                strips[record.index(step)].append(from_binary(mean).float().cpu())
            if step == steps:
                break
            v, mean = rbm_math.gibbs_step(v, W, b, c, rng)
        out.append(from_binary(mean).float().cpu())
    images = model.images(torch.cat(out))
    return images, [model.images(torch.cat(s)) for s in strips]


@torch.no_grad()
def gibbs_points(
    model: RBM, grid: PointGrid, n: int, steps: int, rng: torch.Generator, batch: int = 8192
) -> Tensor:
    """``(n, 2)`` float32 CPU points: ``n`` Gibbs chains from uniform random bits, ``steps``
    sweeps each, the last sweep's bits (a draw from ``p(v|h)``: what the model's density is
    of) decoded by ``grid``, each point uniform in its cell; all from ``rng``."""
    W, b, c = model.params
    chain_rng = rng
    if rng.device != W.device:  # the chains run where the model is, seeded from ``rng``
        seed = int(torch.randint(2**62, (1,), generator=rng, device=rng.device))
        chain_rng = torch.Generator(device=W.device).manual_seed(seed)
    out = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        half = torch.full((m, model.visible), 0.5, device=W.device, dtype=W.dtype)
        v = torch.bernoulli(half, generator=chain_rng)
        for _ in range(steps):
            v, _ = rbm_math.gibbs_step(v, W, b, c, chain_rng)
        out.append(v.cpu())
    return grid.decode(torch.cat(out), rng)


def rbm_sampler(model: RBM, steps: int, grid: PointGrid | None = None):
    """``sample(n, generator)``: `gibbs_samples` of ``model`` with ``steps`` sweeps (images),
    or `gibbs_points` on ``grid`` (a toy)."""

    def sample(n: int, rng: torch.Generator) -> Tensor:
        if grid is not None:
            return gibbs_points(model, grid, n, steps, rng)
        return gibbs_samples(model, n, steps, rng)[0]

    return sample


class RbmTrainable(SingleModelTrainable):
    """An RBM on minibatches of ``train_images`` (`BinaryImages`, or a toy's `BinaryPoints` with
    its ``grid``; see the module docstring); ``inputs``: the image shape and class count a
    checkpoint records (`gankit.train.trainable.source_inputs`)."""

    progress = (("loss", "loss"),)

    def __init__(
        self,
        config: Config,
        train_images: BinaryImages | BinaryPoints,
        model: RBM,
        device: torch.device,
        inputs: dict,
        family_metrics=None,
        grid: PointGrid | None = None,
    ):
        self.cfg = config
        self.section: RbmConfig = config.section("rbm")
        self.images = train_images
        self.inputs = inputs  # what a checkpoint says the model was built for
        self.device = device
        self.rbm = model.to(device)
        seed = config.train.seed
        devices = {"data": getattr(train_images, "rng_device", device), "chain": device}
        rngs = {name: stream(seed, i, devices[name]) for i, name in enumerate(RNG_STREAMS)}
        opt = make_optimizer(self.rbm.parameters(), self.section.lr, config.optim)
        super().__init__(self.rbm, opt, self.section.lr, rngs, name="rbm")
        self.chains = None
        if self.section.persistent:
            self.chains = PersistentChains(config.train.batch_size, model.hidden).to(device)
        self._family_metrics = family_metrics
        self.grid = grid

    @property
    def modules(self):
        mods = {"rbm": self.rbm}
        if self.chains is not None:
            mods["chains"] = self.chains
        return mods

    @torch.no_grad()
    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        v = self.images.batch(self.cfg.train.batch_size, self.rngs["data"])
        W, b, c = self.rbm.params
        chains = None if self.chains is None else self.chains.chains
        (dW, db, dc), end = rbm_math.cd_estimate(
            v, W, b, c, self.section.cd_k, self.rngs["chain"], chains, sign=-1.0
        )
        W.grad, b.grad, c.grad = dW, db, dc  # minus the CD estimate: the loop's SGD ascends it
        if chains is not None:
            chains.copy_(end.h)
        if not log:
            return {}
        gap = rbm_math.free_energy(v, W, b, c).mean() - rbm_math.free_energy(end.v, W, b, c).mean()
        return {"loss": gap}

    def eval_state(self, step: int) -> EvalState:
        """What the evaluator reads of an RBM: its Gibbs samples (images, or a toy's points);
        its family metrics (an image's pseudo-likelihood, a toy's exact likelihood)."""
        family = None
        if self._family_metrics is not None:

            def family() -> dict:
                return self._family_metrics(self.rbm, step)

        sampler = rbm_sampler(self.rbm, self.section.sample_steps, self.grid)
        return EvalState(sampler, step, family_metrics=family)
