"""The PyTorch DCGAN tutorial on MNIST for a wall-clock budget: the baseline to beat.

The networks and hyper-parameters are those of the official PyTorch DCGAN tutorial (Nathan
Inkawhich, "DCGAN Tutorial", https://pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html),
written here in plain PyTorch (no gankit trainer), with ``nc = 1`` for MNIST:

* data: ``transforms.Resize(64)`` (Pillow bilinear on the uint8 image, done here once for the
  whole training split with gankit's `conform`, which calls the same Pillow resize),
  ``ToTensor`` and ``Normalize(0.5, 0.5)``, i.e. pixels in [-1, 1]; a ``DataLoader`` with
  ``shuffle=True``, batch 128 (the last, smaller batch of each epoch kept);
* G: ``ConvTranspose2d(nz=100, ngf*8, 4, 1, 0)`` then three ``ConvTranspose2d(4, 2, 1)``
  halving the channels (ngf = 64), each without bias and followed by ``BatchNorm2d`` and
  ``ReLU``, then ``ConvTranspose2d(ngf, nc, 4, 2, 1)`` and ``Tanh``: 1 -> 4 -> 8 -> 16 -> 32 ->
  64 pixels;
* D: ``Conv2d(nc, ndf, 4, 2, 1)`` + ``LeakyReLU(0.2)``, three ``Conv2d(4, 2, 1)`` doubling the
  channels (ndf = 64) with ``BatchNorm2d`` + ``LeakyReLU(0.2)``, then ``Conv2d(ndf*8, 1, 4, 1,
  0)`` and ``Sigmoid``; no biases;
* ``weights_init``: convolutions N(0, 0.02), batch-norm scales N(1, 0.02), shifts 0;
* ``BCELoss``; Adam, lr 2e-4, betas (0.5, 0.999), for both nets; latent ``z ~ N(0, I)``,
  ``(n, 100, 1, 1)``;
* the tutorial's step: D on the real batch (label 1), backward; one G forward on fresh noise,
  D on ``fake.detach()`` (label 0), backward; D's step; then G's step with D on the same
  ``fake`` (label 1, the non-saturating loss), backward; G's step.

Training stops at the first step that ends after ``--seconds`` of wall clock (the data
preparation is not counted). Then ``--samples`` images are generated with BN in training mode
(batch statistics over batches of 128, as the tutorial's sample grid is made: ``netG`` is never
put in eval mode) and, for reference, in eval mode (running statistics); they are resized back
to 28 x 28 with ``F.interpolate(mode="bilinear", antialias=True)`` (torch's antialiased
bilinear, which follows Pillow's bilinear downscaling), clamped to [-1, 1] and mapped to
[0, 1]. FID is computed in gankit's MNIST feature space (`classifier_extractor` trained on the
60,000 training images with t10k held out, ``name="mnist"``, cached under ~/.cache/gankit)
against the 10,000 t10k images, beside the real floor (FID of ``--samples`` training images
against t10k) and the floor of the resize round trip (training images resized 28 -> 64 -> 28
the same way: what a generator matching the 64 x 64 data perfectly would score). The classes
of the generated images are the arg-max of the classifier's logits.

Seeded (``--seed``: initialisation, data order, noise, sampling); a wall-clock budget makes the
number of steps depend on the machine and its load, so runs are comparable by budget, not bit
for bit. Writes a JSON summary with ``--json FILE``. On a shared machine with more busy
processes than cores, set ``OMP_WAIT_POLICY=PASSIVE``: OpenMP threads spinning at barriers made
2 threads about 3x slower than 1 there (the JSON records the setting).

    python benchmarks/mnist_baseline.py [--data /work/shared/data/mnist] [--seconds 600]
        [--threads 2] [--samples 10000] [--seed 0] [--json benchmarks/results/FILE.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_DATA = "/work/shared/data/mnist"
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# The tutorial's hyper-parameters (nc = 1 for MNIST).
NC, NZ, NGF, NDF = 1, 100, 64, 64
IMAGE_SIZE = 64
BATCH_SIZE = 128
LR, BETA1 = 2e-4, 0.5
RESIZE_BACK = 'F.interpolate(mode="bilinear", antialias=True, align_corners=False)'


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x)


def weights_init(m):
    """The tutorial's custom initialisation."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


# ----------------------------------------------------------------------------- helpers


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def check_data_folder(folder: str) -> None:
    """Exit with code 2 and a clear message when the MNIST folder or a file of it is missing."""
    path = Path(folder)
    missing = [
        name
        for name in MNIST_FILES
        if not (path / name).is_file() and not (path / f"{name}.gz").is_file()
    ]
    if not path.is_dir() or missing:
        what = "does not exist" if not path.is_dir() else f"lacks {', '.join(missing)}[.gz]"
        print(
            f"error: the MNIST folder {path} {what}; this benchmark needs the four MNIST IDX "
            "files (train/t10k images and labels, optionally .gz). Pass their folder with "
            "--data FOLDER (nothing is downloaded).",
            file=sys.stderr,
        )
        sys.exit(2)


def load_mnist(folder: str):
    """(train, t10k) `ImageDataset`s, uint8 (N, 1, 28, 28); exits with code 2 on a bad folder."""
    from gankit.data.datasets import load_splits
    from gankit.errors import GankitError

    check_data_folder(folder)
    try:
        return load_splits("mnist", folder)
    except GankitError as exc:
        print(f"error: {exc} (pass the MNIST folder with --data FOLDER)", file=sys.stderr)
        sys.exit(2)


def resize_to_64(train) -> torch.Tensor:
    """The training images as the tutorial's ``Resize(64)`` makes them: Pillow bilinear on the
    uint8 image (gankit's `conform`, one Pillow call per image), uint8 (N, 1, 64, 64)."""
    from gankit.data.datasets import conform

    return torch.from_numpy(conform(train, IMAGE_SIZE, None, "bilinear").images)


def to_28(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, 64, 64) in [-1, 1] -> (N, 1, 28, 28) float32 in [0, 1]."""
    small = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return (small.clamp(-1.0, 1.0) + 1.0) / 2.0


# ----------------------------------------------------------------------------- training


def train(images64: torch.Tensor, seconds: float, seed: int, log_every: float = 30.0):
    """The tutorial's loop for ``seconds`` of wall clock; returns (G, record)."""
    torch.manual_seed(seed)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=LR, betas=(BETA1, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=LR, betas=(BETA1, 0.999))
    gen = torch.Generator().manual_seed(seed + 1)  # data order and noise
    real_label, fake_label = 1.0, 0.0
    n = images64.shape[0]
    steps = seen = epoch = 0
    trace = []
    start = time.perf_counter()
    next_log = log_every
    done = False
    while not done:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, BATCH_SIZE):
            real = images64[perm[i : i + BATCH_SIZE]].to(torch.float32).div_(127.5).sub_(1.0)
            b_size = real.size(0)
            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            label = torch.full((b_size,), real_label, dtype=torch.float)
            output = netD(real).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = torch.randn(b_size, NZ, 1, 1, generator=gen)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            # (2) Update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            steps += 1
            seen += b_size
            elapsed = time.perf_counter() - start
            if elapsed >= next_log or steps == 1:
                row = {
                    "step": steps,
                    "seconds": round(elapsed, 1),
                    "loss_d": round(errD.item(), 4),
                    "loss_g": round(errG.item(), 4),
                    "d_x": round(D_x, 4),
                    "d_g_z1": round(D_G_z1, 4),
                    "d_g_z2": round(D_G_z2, 4),
                }
                trace.append(row)
                print(
                    f"  step {steps:6d} epoch {epoch} {elapsed:6.0f} s  Loss_D {row['loss_d']:.4f}"
                    f"  Loss_G {row['loss_g']:.4f}  D(x) {D_x:.3f}  D(G(z)) {D_G_z1:.3f} / "
                    f"{D_G_z2:.3f}  load {load_average()[0]:.2f}",
                    flush=True,
                )
                while next_log <= elapsed:
                    next_log += log_every
            if elapsed >= seconds:
                done = True
                break
        if not done:
            epoch += 1
    seconds_done = time.perf_counter() - start
    record = {
        "steps": steps,
        "images_seen": seen,
        "epochs": round(seen / n, 4),
        "seconds": round(seconds_done, 2),
        "steps_per_second": round(steps / seconds_done, 4),
        "images_per_second": round(seen / seconds_done, 2),
        "trace": trace,
    }
    return netG, record


@torch.no_grad()
def generate(netG: nn.Module, n: int, seed: int, bn: str) -> torch.Tensor:
    """``n`` images (N, 1, 28, 28) in [0, 1], G in BN ``train`` or ``eval`` mode, batches of 128
    (in train mode the batch statistics change the running averages, so eval mode goes first)."""
    gen = torch.Generator().manual_seed(seed + 2)
    was = netG.training
    netG.train(bn == "train")
    out = []
    for start in range(0, n, BATCH_SIZE):
        z = torch.randn(min(BATCH_SIZE, n - start), NZ, 1, 1, generator=gen)
        out.append(to_28(netG(z)))
    netG.train(was)
    return torch.cat(out)


# ----------------------------------------------------------------------------- evaluation


def evaluate(netG, train_ds, test_ds, images64, n, seed, threads):
    from gankit.metrics.features import extract_features
    from gankit.metrics.features.classifier import classifier_extractor
    from gankit.metrics.fid import fid

    t0 = time.perf_counter()
    extractor, info = classifier_extractor(
        train_ds.images,
        train_ds.labels,
        test_ds.images,
        test_ds.labels,
        name="mnist",
        threads=threads,
        progress=True,
    )
    t_classifier = time.perf_counter() - t0
    test_feats, _ = extract_features(test_ds.images, extractor)
    rng = np.random.default_rng(seed + 3)
    idx = np.sort(rng.choice(len(train_ds), size=min(n, len(train_ds)), replace=False))
    floor_feats, floor_logits = extract_features(train_ds.images[idx], extractor)
    roundtrip = to_28(images64[torch.from_numpy(idx)].to(torch.float32) / 127.5 - 1.0)
    roundtrip_feats, _ = extract_features(roundtrip, extractor)
    results = {
        "classifier": {
            "heldout_accuracy": info["heldout_accuracy"],
            "cached": info["cached"],
            "key": info["key"],
            "seconds_to_get": round(t_classifier, 1),
        },
        "fid_floor_mnist": fid(floor_feats, test_feats),
        "fid_floor_roundtrip_mnist": fid(roundtrip_feats, test_feats),
        "floor_class_histogram": np.bincount(floor_logits.argmax(1), minlength=10).tolist(),
    }
    # eval mode first: a train-mode pass updates the running statistics
    for bn in ("eval", "train"):
        fake = generate(netG, n, seed, bn)
        feats, logits = extract_features(fake, extractor)
        hist = np.bincount(logits.argmax(1), minlength=10).tolist()
        suffix = "" if bn == "train" else "_bn_eval"
        results[f"fid_mnist{suffix}"] = fid(feats, test_feats)
        results[f"class_histogram{suffix}"] = hist
        results[f"all_classes_present{suffix}"] = all(h > 0 for h in hist)
    results["evaluation_seconds"] = round(time.perf_counter() - t0, 1)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder of the MNIST IDX files")
    ap.add_argument("--seconds", type=float, default=600.0, help="training wall-clock budget")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--samples", type=int, default=10000, help="generated images for FID")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the summary here")
    args = ap.parse_args()
    check_data_folder(args.data)
    torch.set_num_threads(args.threads)
    load_start = load_average()
    t0 = time.perf_counter()
    train_ds, test_ds = load_mnist(args.data)
    images64 = resize_to_64(train_ds)
    prep = time.perf_counter() - t0
    print(
        f"MNIST {tuple(train_ds.images.shape)} -> {tuple(images64.shape)} (Pillow bilinear) "
        f"in {prep:.1f} s; training {args.seconds:.0f} s on {torch.get_num_threads()} threads, "
        f"load average {load_start}",
        flush=True,
    )
    netG, record = train(images64, args.seconds, args.seed)
    load_train_end = load_average()
    print(
        f"trained {record['steps']} steps, {record['images_seen']} images "
        f"({record['epochs']:.3f} epochs) in {record['seconds']:.1f} s "
        f"({record['images_per_second']:.1f} images/s), load average {load_train_end}",
        flush=True,
    )
    results = evaluate(netG, train_ds, test_ds, images64, args.samples, args.seed, args.threads)
    summary = {
        "benchmark": "mnist_baseline (PyTorch DCGAN tutorial, nc=1, MNIST at 64x64)",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "seed": args.seed,
        "threads": torch.get_num_threads(),
        "budget_seconds": args.seconds,
        **{k: v for k, v in record.items() if k != "trace"},
        **results,
        "samples": args.samples,
        "sample_bn_mode": "train (batch statistics, batches of 128, as the tutorial)",
        "resize_back": RESIZE_BACK,
        "data_prep_seconds": round(prep, 1),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
        "load_average": {
            "start": load_start,
            "train_end": load_train_end,
            "end": load_average(),
        },
        "hyperparameters": {
            "nz": NZ,
            "ngf": NGF,
            "ndf": NDF,
            "nc": NC,
            "image_size": IMAGE_SIZE,
            "batch_size": BATCH_SIZE,
            "lr": LR,
            "betas": [BETA1, 0.999],
            "loss": "BCELoss on Sigmoid outputs",
        },
        "trace": record["trace"],
    }
    hist = results["class_histogram"]
    print(
        f"\nFID (MNIST classifier space, vs t10k, {args.samples} samples): "
        f"{results['fid_mnist']:.3f} (G with BN batch statistics, the tutorial's way), "
        f"{results['fid_mnist_bn_eval']:.3f} (G in eval mode)\n"
        f"floor: {results['fid_floor_mnist']:.3f} ({args.samples} training images); "
        f"resize round trip 28->64->28: {results['fid_floor_roundtrip_mnist']:.3f}\n"
        f"classifier held-out accuracy {results['classifier']['heldout_accuracy']:.4f}\n"
        f"class histogram (arg-max of the classifier's logits): {hist} "
        f"(every class present: {results['all_classes_present']}; eval mode: "
        f"{results['class_histogram_bn_eval']})\n"
        f"load average start {load_start}, end of training {load_train_end}, end "
        f"{summary['load_average']['end']}"
    )
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
