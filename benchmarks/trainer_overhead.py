"""Overhead of gankit's training loop over a minimal hand-written PyTorch GAN loop.

Both loops train the gaussian-1d preset's nets (same initial weights, same optimizers, the same
data and noise streams, so the same batches, the preset's k D-steps per G-step, its R1 penalty,
its EMA of G and cosine schedule) with the nonsaturating loss; the hand-written loop writes that
loss inline.
The loop runs `Loop.train_step` with the real logging cadence (``log`` every
``log.every`` steps, as `Loop.fit` calls it), without evaluations, snapshots or checkpoints
(those are periodic I/O, not per-step overhead). Short rounds are interleaved (the order
alternates) and the median per-round ratio is printed (with the ratio of the fastest rounds, less
sensitive to a shared machine's load); the target is <= 1.10.

    python benchmarks/trainer_overhead.py [--steps 40] [--rounds 25] [--threads 1] [--profile]
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from gankit.config import resolve
from gankit.data.sources import ToySource
from gankit.data.toy import make_toy
from gankit.nets.build import build_models
from gankit.nets.latent import sample_noise
from gankit.recipes.gan import gan_loop
from gankit.train.optim import make_optimizer

TARGET = 1.10


class HandLoop:
    """Algorithm 1 written out the way a tutorial would: k D-steps, one G-step, the EMA of G and
    the cosine learning-rate schedule through `torch.optim.lr_scheduler.LambdaLR`."""

    def __init__(self, cfg, sample_data, G, D, device):
        self.cfg, self.sample_data, self.G, self.D, self.device = cfg, sample_data, G, D, device
        seed = cfg.train.seed
        self.rng_data = torch.Generator(device=device).manual_seed(seed * 7919)
        self.rng_noise = torch.Generator(device=device).manual_seed(seed * 7919 + 1)
        self.opt_d = make_optimizer(D.parameters(), cfg.optim.lr_d, cfg.optim)
        self.opt_g = make_optimizer(G.parameters(), cfg.optim.lr_g, cfg.optim)
        total = cfg.train.steps

        def cosine(step):
            return 0.5 * (1.0 + math.cos(math.pi * min(step / total, 1.0)))

        assert cfg.optim.schedule == "cosine" and cfg.optim.warmup == 0
        self.sched = [
            torch.optim.lr_scheduler.LambdaLR(o, cosine) for o in (self.opt_d, self.opt_g)
        ]
        self.ema = copy.deepcopy(G).requires_grad_(False) if cfg.model.ema > 0 else None
        assert set(cfg.game.penalties) <= {"r1"}, "the hand loop writes only the R1 penalty"
        self.r1 = float(cfg.game.penalties.get("r1", 0.0))

    def noise(self, m):
        return sample_noise(
            m, self.cfg.model.noise_dim, self.cfg.model.noise, self.rng_noise, self.device
        )

    def train_step(self):
        m = self.cfg.train.batch_size
        for _ in range(self.cfg.game.d_steps):
            real = self.sample_data(m, self.rng_data).to(self.device)
            with torch.no_grad():
                fake = self.G(self.noise(m))
            real.requires_grad_(self.r1 > 0)
            real_scores = self.D(real)
            d_loss = F.softplus(-real_scores).mean() + F.softplus(self.D(fake)).mean()
            if self.r1 > 0:  # R1 (Mescheder et al. 2018): |grad_x D(x)|^2 on real data
                (grad,) = torch.autograd.grad(real_scores.sum(), real, create_graph=True)
                d_loss = d_loss + self.r1 * grad.pow(2).sum(1).mean()
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        g_loss = F.softplus(-self.D(self.G(self.noise(m)))).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.ema is not None:
            with torch.no_grad():
                for e, p in zip(self.ema.parameters(), self.G.parameters()):
                    e.lerp_(p, 1.0 - self.cfg.model.ema)
        for s in self.sched:
            s.step()


def build(device):
    cfg = resolve("gaussian-1d")
    data = make_toy(cfg.data.name, **cfg.data.params)
    torch.manual_seed(cfg.train.seed)
    G, D = build_models(cfg.model, data.dim, data.sample, cfg.train.seed)
    tmp = tempfile.mkdtemp(prefix="gankit-bench-")
    trainer = gan_loop(cfg, ToySource(data), copy.deepcopy(G), copy.deepcopy(D), tmp, device)
    hand = HandLoop(cfg, data.sample, copy.deepcopy(G), copy.deepcopy(D), device)
    return cfg, trainer, hand


def run_trainer(trainer, steps):
    every = trainer.log_every
    for _ in range(steps):
        trainer.train_step(log=(trainer.step + 1) % every == 0)


def run_hand(hand, steps):
    for _ in range(steps):
        hand.train_step()


def timed(fn, *args, sync=None):
    if sync:
        sync()
    t = time.perf_counter()
    fn(*args)
    if sync:
        sync()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=40, help="steps per round and loop")
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--profile", action="store_true", help="cProfile both loops afterwards")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    cfg, trainer, hand = build(device)

    # Same batches: both loops draw from identically seeded data and noise streams.
    assert torch.equal(trainer.trainable.rngs["data"].get_state(), hand.rng_data.get_state())
    assert torch.equal(trainer.trainable.rngs["noise"].get_state(), hand.rng_noise.get_state())

    run_trainer(trainer, 50)  # warm-up
    run_hand(hand, 50)
    ratios, t_tr, t_hd = [], [], []
    for r in range(args.rounds):
        if r % 2 == 0:
            a = timed(run_trainer, trainer, args.steps, sync=sync)
            b = timed(run_hand, hand, args.steps, sync=sync)
        else:
            b = timed(run_hand, hand, args.steps, sync=sync)
            a = timed(run_trainer, trainer, args.steps, sync=sync)
        t_tr.append(a / args.steps)
        t_hd.append(b / args.steps)
        ratios.append(a / b)
    ratio = statistics.median(ratios)
    print(
        f"device={device} threads={torch.get_num_threads()} batch={cfg.train.batch_size} "
        f"log.every={cfg.log.every} steps/round={args.steps} rounds={args.rounds}"
    )
    print(f"trainer    {statistics.median(t_tr) * 1e6:8.1f} us/step (median)")
    print(f"hand loop  {statistics.median(t_hd) * 1e6:8.1f} us/step (median)")
    print(f"ratios     {' '.join(f'{x:.3f}' for x in ratios)}")
    print(f"fastest-round ratio = {min(t_tr) / min(t_hd):.3f}")
    print(
        f"overhead ratio (median) = {ratio:.3f}  (target <= {TARGET:.2f}: "
        f"{'ok' if ratio <= TARGET else 'ABOVE TARGET'})"
    )

    if args.profile:
        import cProfile
        import pstats

        for name, fn, obj in (("trainer", run_trainer, trainer), ("hand", run_hand, hand)):
            prof = cProfile.Profile()
            prof.runcall(fn, obj, args.steps)
            print(f"\n--- {name} ---")
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
