"""A textbook DCGAN sized for MNIST's 28 x 28, trained for a wall-clock budget: the baseline
that gankit's ``mnist`` preset is measured against (`benchmarks/mnist_compare.py`).

Radford et al. (2016)'s DCGAN as it is usually written for 28 x 28 digits, in plain PyTorch (no
gankit trainer), at MNIST's own size (no resizing):

* data: the 60,000 training images, ``uint8 / 127.5 - 1`` (pixels in [-1, 1]), reshuffled
  every epoch, batches of 64 (the last, smaller batch of each epoch kept);
* G: ``z ~ N(0, I)`` of 100 -> ``Linear(100, 128 * 7 * 7)`` reshaped to 128 x 7 x 7,
  ``BatchNorm2d``, ReLU -> ``ConvTranspose2d(128, 64, 4, 2, 1)`` (14 x 14), ``BatchNorm2d``,
  ReLU -> ``ConvTranspose2d(64, 1, 4, 2, 1)`` (28 x 28), tanh; layers followed by batch norm
  carry no bias;
* D: ``Conv2d(1, 64, 4, 2, 1)`` (14 x 14), LeakyReLU(0.2) -> ``Conv2d(64, 128, 4, 2, 1)``
  (7 x 7), ``BatchNorm2d``, LeakyReLU(0.2) -> flatten -> ``Linear(6272, 1)``: one logit;
* DCGAN initialisation: convolution and linear weights N(0, 0.02), biases 0, batch-norm scales
  N(1, 0.02), shifts 0;
* the non-saturating loss as ``BCEWithLogitsLoss``; Adam, lr 2e-4, betas (0.5, 0.999), both
  nets;
* the PyTorch DCGAN tutorial's step: D on the real batch (label 1), backward; one G forward on
  fresh noise, D on ``fake.detach()`` (label 0), backward; D's step; then D on the same
  ``fake`` (label 1), backward; G's step.

Training stops at the first step that ends after ``--seconds`` of wall clock (loading the data
is not counted); steps made, wall seconds and CPU seconds (``time.process_time``: all threads of
this process) are reported. Then ``--samples`` images are generated twice from the same noise:
with G's batch norm in training mode (batch statistics over batches of 64, as during training
and as the tutorial samples) and in eval mode (running statistics), and both are judged by the
independent judge (`benchmarks/mnist_judge.py`: FID against the 10,000 test images in a
LeNet's feature space, beside its floor; class shares; confident share). The better of the two
(lower judge FID) is the baseline's number: "sampled with its better batch-norm mode".

Seeded (``--seed``: initialisation, data order, noise, sampling); a wall-clock budget makes the
number of steps depend on the machine and its load, so runs are comparable by budget, not bit
for bit. Writes a JSON summary with ``--json FILE``. On a shared machine with more busy
processes than cores, set ``OMP_WAIT_POLICY=PASSIVE``: OpenMP threads spinning at barriers made
2 threads about 3x slower than 1 there (the JSON records the setting). Without the MNIST files
the script says so in one line and exits with status 2.

    python benchmarks/mnist_baseline.py [--data ../shared/data/mnist] [--seconds 600]
        [--threads 1] [--samples 10000] [--seed 0] [--cache JUDGE_DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mnist_judge import (  # noqa: E402 - the sibling script, found through the path above
    DEFAULT_DATA,
    judge_scores,
    load_mnist,
    load_or_train_judge,
    torch_threads,
)

NZ = 100
BATCH_SIZE = 64
LR, BETAS = 2e-4, (0.5, 0.999)
BN_MODES = ("train", "eval")
HYPERPARAMETERS = {
    "nz": NZ,
    "g": "Linear(100, 6272)+BN+ReLU, ConvT(128, 64, 4, 2, 1)+BN+ReLU, ConvT(64, 1, 4, 2, 1), tanh",
    "d": "Conv(1, 64, 4, 2, 1)+LReLU(0.2), Conv(64, 128, 4, 2, 1)+BN+LReLU(0.2), Linear(6272, 1)",
    "init": "N(0, 0.02) weights, BN scales N(1, 0.02)",
    "batch_size": BATCH_SIZE,
    "lr": LR,
    "betas": list(BETAS),
    "loss": "non-saturating, BCEWithLogitsLoss",
}


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(NZ, 128 * 7 * 7, bias=False)
        self.main = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(self.fc(z).view(-1, 128, 7, 7))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


def weights_init(m: nn.Module) -> None:
    """DCGAN's initialisation."""
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ----------------------------------------------------------------------------- training


def train(images_u8: np.ndarray, seconds: float, seed: int, log_every: float = 30.0, log=print):
    """The loop for ``seconds`` of wall clock on ``images_u8`` (uint8 (N, 1, 28, 28)); returns
    (G, record). Uses torch's current number of threads."""
    images = torch.from_numpy(np.ascontiguousarray(images_u8))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        netG, netD = Generator(), Discriminator()
        netG.apply(weights_init)
        netD.apply(weights_init)
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(netD.parameters(), lr=LR, betas=BETAS)
    optG = torch.optim.Adam(netG.parameters(), lr=LR, betas=BETAS)
    gen = torch.Generator().manual_seed(seed + 1)  # data order and noise
    n = images.shape[0]
    steps = seen = epoch = 0
    trace = []
    start, cpu_start = time.perf_counter(), time.process_time()
    next_log = log_every
    done = False
    while not done:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, BATCH_SIZE):
            real = images[perm[i : i + BATCH_SIZE]].to(torch.float32).div_(127.5).sub_(1.0)
            b = real.size(0)
            ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
            # D: real -> 1, fake -> 0
            netD.zero_grad(set_to_none=True)
            out_real = netD(real)
            loss_real = criterion(out_real, ones)
            loss_real.backward()
            fake = netG(torch.randn(b, NZ, generator=gen))
            out_fake = netD(fake.detach())
            loss_fake = criterion(out_fake, zeros)
            loss_fake.backward()
            optD.step()
            # G: the non-saturating loss, D on the same fake labelled 1
            netG.zero_grad(set_to_none=True)
            out_g = netD(fake)
            loss_g = criterion(out_g, ones)
            loss_g.backward()
            optG.step()
            steps += 1
            seen += b
            elapsed = time.perf_counter() - start
            if elapsed >= next_log or steps == 1:
                row = {
                    "step": steps,
                    "seconds": round(elapsed, 1),
                    "loss_d": round(loss_real.item() + loss_fake.item(), 4),
                    "loss_g": round(loss_g.item(), 4),
                    "d_x": round(torch.sigmoid(out_real).mean().item(), 4),
                    "d_g_z": round(torch.sigmoid(out_fake).mean().item(), 4),
                }
                trace.append(row)
                log(
                    f"  step {steps:6d} epoch {epoch} {elapsed:6.0f} s  loss_D {row['loss_d']:.4f}"
                    f"  loss_G {row['loss_g']:.4f}  D(x) {row['d_x']:.3f}  D(G(z)) "
                    f"{row['d_g_z']:.3f}  load {load_average()[0]:.2f}"
                )
                while next_log <= elapsed:
                    next_log += log_every
            if elapsed >= seconds:
                done = True
                break
        if not done:
            epoch += 1
    wall = time.perf_counter() - start
    record = {
        "steps": steps,
        "images_seen": seen,
        "epochs": round(seen / n, 4),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(time.process_time() - cpu_start, 2),
        "steps_per_second": round(steps / wall, 4),
        "threads": torch.get_num_threads(),
        "trace": trace,
    }
    return netG, record


@torch.no_grad()
def generate(netG: nn.Module, n: int, seed: int, bn: str) -> np.ndarray:
    """``n`` images (N, 1, 28, 28) float32 in [0, 1] from noise seeded by ``seed`` (the same
    noise for both modes), G's batch norm in ``train`` mode (batch statistics over batches of
    64; on a copy, so G's running statistics are untouched) or ``eval`` mode."""
    net = copy.deepcopy(netG)
    net.train(bn == "train")
    gen = torch.Generator().manual_seed(seed + 2)
    out = []
    for start in range(0, n, BATCH_SIZE):
        z = torch.randn(min(BATCH_SIZE, n - start), NZ, generator=gen)
        out.append(((net(z).clamp(-1.0, 1.0) + 1.0) / 2.0).numpy())
    return np.concatenate(out).astype(np.float32)


def run_baseline(
    images_u8: np.ndarray,
    seconds: float,
    seed: int,
    threads: int,
    samples: int,
    judge,
    log=print,
) -> dict:
    """Train for ``seconds`` on ``threads`` threads, sample ``samples`` images in both
    batch-norm modes, judge both; ``judge`` holds the one with the lower judge FID."""
    with torch_threads(threads):
        netG, record = train(images_u8, seconds, seed, log=log)
        started = time.perf_counter()
        judged = {}
        for bn in BN_MODES:
            judged[bn] = judge_scores(judge, generate(netG, samples, seed, bn))
    better = min(BN_MODES, key=lambda bn: judged[bn]["fid"])
    return {
        **record,
        "samples": samples,
        "bn_mode": better,
        "judge": judged[better],
        **{f"judge_bn_{bn}": judged[bn] for bn in BN_MODES},
        "sample_and_judge_seconds": round(time.perf_counter() - started, 1),
    }


def describe(result: dict) -> str:
    j = result["judge"]
    other = "eval" if result["bn_mode"] == "train" else "train"
    return (
        f"judge FID {j['fid']:.3f} (floor {j['fid_floor']:.3f}; {result['samples']} samples, "
        f"BN {result['bn_mode']} mode; {other} mode {result[f'judge_bn_{other}']['fid']:.3f}), "
        f"rarest class {j['rarest_class_share']:.1%}, confident {j['confident_share']:.1%}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder of the MNIST IDX files")
    ap.add_argument("--seconds", type=float, default=600.0, help="training wall-clock budget")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--samples", type=int, default=10000, help="generated images to judge")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=None, help="the judge's cache folder")
    ap.add_argument("--json", default=None, help="write the summary here")
    args = ap.parse_args()
    if args.samples <= 128:
        ap.error("--samples must exceed the judge's 128 feature dimensions (FID)")
    mnist = load_mnist(args.data, "mnist_baseline")
    judge = load_or_train_judge(args.data, args.cache, args.threads, mnist=mnist)
    print(f"judge: test accuracy {judge.accuracy:.4f}, FID floor {judge.fid_floor:.3f}")
    load_start = load_average()
    print(
        f"training {args.seconds:.0f} s on {args.threads} thread(s), load average {load_start}",
        flush=True,
    )
    result = run_baseline(mnist[0], args.seconds, args.seed, args.threads, args.samples, judge)
    print(
        f"trained {result['steps']} steps ({result['epochs']:.3f} epochs) in "
        f"{result['wall_seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU\n"
        f"{describe(result)}\nclass shares {result['judge']['class_shares']}"
    )
    summary = {
        "benchmark": "mnist_baseline (textbook DCGAN at 28x28, plain PyTorch)",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "seed": args.seed,
        "budget_seconds": args.seconds,
        **{k: v for k, v in result.items() if k != "trace"},
        "judge_record": judge.record(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
        "load_average": {"start": load_start, "end": load_average()},
        "hyperparameters": HYPERPARAMETERS,
        "trace": result["trace"],
    }
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
