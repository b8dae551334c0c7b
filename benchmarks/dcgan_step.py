"""One DCGAN training step: gankit's loop against a minimal hand-written PyTorch loop.

Both loops train the same DCGAN nets (`gankit.nets.dcgan`, deep-copied from one initialisation)
with the same optimizers (Adam, lr 2e-4, betas (0.5, 0.999), both players) and the
non-saturating loss, one D step on a real batch of ``--batch`` images then one G step, on the
same fixed in-memory batch of random images of the chosen shape (no dataset needed): the
loop draws it from a tiny `FixedSource`, the hand loop reads the tensor. The hand loop is
Algorithm 1 as a tutorial writes it: a fresh latent batch for D's step (G run under
``no_grad``) and another for G's step (the same noise as the loop's: identically seeded
streams), the loss inline (``softplus``), no logging. The loop runs `Loop.train_step`
with the real logging cadence (``log`` every ``log.every`` steps, as `Loop.fit` calls it:
grad norms and statistics read back on those steps), no callbacks.

Short rounds are interleaved (the order alternates); the script prints images/s of each loop
(median over rounds) and the median per-round ratio gankit/hand with its spread (quartiles and
range); the target is >= 0.95. Both wall-clock and CPU time (``time.process_time``: the work
this process did, much less sensitive to other processes on a shared machine) are measured; the
load average (``uptime``) is printed beside the timings. On a loaded machine prefer
``--threads 1`` and the CPU-time ratio: with more busy processes than cores, OpenMP threads
spinning at barriers made two threads about 3x slower than one here (``OMP_WAIT_POLICY=PASSIVE``
in the environment removed that).

``--channels-last`` and ``--bf16`` (``torch.autocast(dtype=torch.bfloat16)`` around the forward
passes) apply to both loops: the loop gets them through its config (``train.channels_last``,
``train.precision = "bf16"``) where gankit has those keys; where it does not, the loop runs in
float32 (with nets and batch handed over in channels-last memory) and only the hand loop uses
bf16. The script prints what the loop was run with. With ``--bf16`` the hand loop is also
timed in float32, for bf16's speed-up.

    python benchmarks/dcgan_step.py [--size 28 --channels 1] [--batch 64] [--rounds 12]
        [--steps 10] [--threads 1] [--device cpu|cuda] [--channels-last] [--bf16]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from gankit.config import resolve
from gankit.data.batch import Batch
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.recipes.gan import gan_loop
from gankit.train.loop import Loop

TARGET = 0.95
NOISE_DIM = 100
LR, BETAS = 2e-4, (0.5, 0.999)


class FixedSource:
    """A training source serving one fixed in-memory tensor (already on the device) as every
    minibatch; ``n`` must be its batch size."""

    kind = "images"

    def __init__(self, x: torch.Tensor):
        self.x = x
        self.device = x.device

    def batch(self, n: int, generator: torch.Generator | None = None) -> Batch:
        if n != self.x.shape[0]:
            raise ValueError(f"FixedSource holds {self.x.shape[0]} images, asked for {n}")
        return Batch(self.x)


class HandLoop:
    """One D step on the real batch, one G step, written out as a tutorial would."""

    def __init__(self, G, D, real, device, seed, bf16=False):
        self.G, self.D, self.real, self.device = G.to(device), D.to(device), real, device
        self.rng = torch.Generator(device=device).manual_seed(seed * 7919 + 1)  # the loop's
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.bf16 = bf16

    def autocast(self):
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def train_step(self):
        m = self.real.shape[0]
        with self.autocast():
            with torch.no_grad():
                fake = self.G(torch.randn(m, NOISE_DIM, generator=self.rng, device=self.device))
            d_loss = F.softplus(-self.D(self.real)).mean() + F.softplus(self.D(fake)).mean()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        with self.autocast():
            z = torch.randn(m, NOISE_DIM, generator=self.rng, device=self.device)
            g_loss = F.softplus(-self.D(self.G(z))).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()


def train_keys() -> set[str]:
    from gankit.config import TrainConfig

    return {f.name for f in dataclasses.fields(TrainConfig)}


def trainer_config(args):
    """The loop's config, and what it supports of ``--bf16`` / ``--channels-last``."""
    keys = train_keys()
    overrides = [
        f"model.noise_dim={NOISE_DIM}",
        "model.noise=normal",
        "model.ema=0",
        f"train.batch_size={args.batch}",
        f"train.seed={args.seed}",
        "train.steps=1000000000",
        "game.loss=nonsaturating",
        "game.d_steps=1",
        "game.penalties={}",
        "optim.name=adam",
        f"optim.lr_d={LR}",
        f"optim.lr_g={LR}",
        f"optim.beta1={BETAS[0]}",
        f"optim.beta2={BETAS[1]}",
        "optim.schedule=constant",
        "optim.warmup=0",
    ]
    if args.log_every:
        overrides.append(f"log.every={args.log_every}")
    bf16 = args.bf16 and "precision" in keys
    channels_last = args.channels_last and "channels_last" in keys
    if bf16:
        overrides.append("train.precision=bf16")
    if channels_last:
        overrides.append("train.channels_last=true")
    return resolve(overrides=overrides), bf16, channels_last


def build(args, device):
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    torch.manual_seed(args.seed)
    G = DCGANGenerator(NOISE_DIM, args.channels, args.size, args.width)
    D = DCGANDiscriminator(args.channels, args.size, args.width, norm="batch")
    G, D = G.to(device, memory_format=fmt), D.to(device, memory_format=fmt)
    g = torch.Generator().manual_seed(args.seed + 1)
    real = torch.rand(args.batch, args.channels, args.size, args.size, generator=g) * 2 - 1
    real = real.to(device).contiguous(memory_format=fmt)
    cfg, trainer_bf16, trainer_cl = trainer_config(args)
    run_dir = tempfile.mkdtemp(prefix="gankit-bench-")
    trainer = gan_loop(cfg, FixedSource(real), copy.deepcopy(G), copy.deepcopy(D), run_dir, device)
    assert torch.equal(
        trainer.trainable.rngs["noise"].get_state(),
        torch.Generator(device=device).manual_seed(args.seed * 7919 + 1).get_state(),
    ), "the hand loop's noise stream no longer matches the loop's"
    loops = {
        "gankit": trainer,
        "hand": HandLoop(copy.deepcopy(G), copy.deepcopy(D), real, device, args.seed, args.bf16),
    }
    if args.bf16:  # bf16's speed-up: the hand loop in float32 too
        loops["hand-fp32"] = HandLoop(copy.deepcopy(G), copy.deepcopy(D), real, device, args.seed)
    how = (
        f"train.precision={'bf16' if trainer_bf16 else 'fp32'}"
        + ("" if trainer_bf16 or not args.bf16 else " (gankit has no train.precision key)")
        + f", train.channels_last={'true' if trainer_cl else 'false'}"
        + (
            " (nets and batch handed over in channels-last memory: no train.channels_last key)"
            if args.channels_last and not trainer_cl
            else ""
        )
    )
    return cfg, loops, how, trainer_bf16


def run(loop, steps):
    if isinstance(loop, Loop):
        every = loop.log_every
        for _ in range(steps):
            loop.train_step(log=(loop.step + 1) % every == 0)
    else:
        for _ in range(steps):
            loop.train_step()


def timed(loop, steps, device):
    """(wall seconds, CPU seconds) of ``steps`` steps."""
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    if sync:
        sync()
    t, c = time.perf_counter(), time.process_time()
    run(loop, steps)
    if sync:
        sync()
    return time.perf_counter() - t, time.process_time() - c


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def spread(rs) -> str:
    if len(rs) >= 4:
        q = statistics.quantiles(rs, n=4)
        quart = f"quartiles {q[0]:.3f}..{q[2]:.3f}, "
    else:
        quart = ""
    return f"{quart}range {min(rs):.3f}..{max(rs):.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=28, help="image side (28: MNIST, 32: CIFAR)")
    ap.add_argument("--channels", type=int, default=1, help="1 grey, 3 colour")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--width", type=int, default=64, help="DCGAN g_width = d_width")
    ap.add_argument(
        "--steps",
        type=int,
        default=10,
        help="steps per round and loop (a multiple of log.every"
        " keeps one logged step in each round)",
    )
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps per loop first")
    ap.add_argument("--log-every", type=int, default=0, help="log.every (0: the config's)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast of the forward passes")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        ap.exit(2, "dcgan_step.py: --device cuda, but torch sees no CUDA device\n")
    cfg, loops, how, trainer_bf16 = build(args, device)
    names = list(loops)
    for name in names:
        run(loops[name], args.warmup)
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    load_before = load()
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            w, c = timed(loops[name], args.steps, device)
            wall[name].append(w / args.steps)
            cpu[name].append(c / args.steps)
    load_after = load()

    precision = "bf16" if args.bf16 else "fp32"
    print(
        f"device={device} threads={torch.get_num_threads()} torch={torch.__version__} "
        f"image={args.channels}x{args.size}x{args.size} batch={args.batch} width={args.width} "
        f"log.every={cfg.log.every} steps/round={args.steps} rounds={args.rounds} "
        f"channels_last={args.channels_last} bf16={args.bf16}"
    )
    print(
        f"{load_before} (before), {load_after} (after); "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"
    )
    print(f"gankit loop run with: {how}")
    print(f"hand loop run with: {precision}" + (" (and fp32: hand-fp32)" if args.bf16 else ""))
    for name in names:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"{name:10s} {args.batch / w:8.1f} images/s wall ({w * 1e3:7.1f} ms/step), "
            f"{args.batch / c:8.1f} images/s CPU time ({c * 1e3:7.1f} ms/step), medians"
        )

    def ratio(a, b, times):
        """Per-round (images/s of a) / (images/s of b) = time of b / time of a."""
        return [tb / ta for ta, tb in zip(times[a], times[b])]

    label = "gankit/hand" if trainer_bf16 or not args.bf16 else "gankit(fp32)/hand(bf16)"
    for kind, times in (("wall", wall), ("CPU ", cpu)):
        rs = ratio("gankit", "hand", times)
        med = statistics.median(rs)
        verdict = "ok" if med >= TARGET else "BELOW TARGET"
        print(
            f"ratio {label} ({kind}) = {med:.3f} median, {spread(rs)}  "
            f"(target >= {TARGET:.2f}: {verdict})"
        )
    print(f"per-round CPU ratios {' '.join(f'{x:.3f}' for x in ratio('gankit', 'hand', cpu))}")
    if args.bf16:
        for kind, times in (("wall", wall), ("CPU ", cpu)):
            rs = ratio("hand", "hand-fp32", times)
            print(
                f"bf16 speed-up of the hand loop ({kind}) = {statistics.median(rs):.3f} median, "
                f"{spread(rs)}"
            )


if __name__ == "__main__":
    main()
