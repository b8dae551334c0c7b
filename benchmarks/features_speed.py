"""Inception feature extraction speed on the CPU: images/s at batch 50.

Uses ``--inception-weights FILE`` when given (the real FID weights), otherwise random weights of
the same architecture (speed does not depend on the values; they are scaled so activations stay
away from denormal floats, which would slow the CPU down and misstate the speed). Inputs are
random 32 x 32 uint8 RGB images (CIFAR-sized), resized to 299 x 299 by the TF1 route.
Usage: ``python benchmarks/features_speed.py [--inception-weights FILE] [--batches 2]``.
"""

from __future__ import annotations

import argparse
import time

import torch

from gankit.metrics.features import extract_features, get_extractor
from gankit.metrics.features.inception import InceptionV3FID
from gankit.metrics.features.registry import Extractor


def random_inception() -> InceptionV3FID:
    g = torch.Generator().manual_seed(0)
    model = InceptionV3FID()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("conv.weight"):
                p.copy_(torch.randn(p.shape, generator=g) * (2.0 / p[0].numel()) ** 0.5)
    return model.to(memory_format=torch.channels_last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inception-weights", default=None)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--size", type=int, default=32, help="input image side (default 32)")
    args = parser.parse_args()
    if args.inception_weights:
        ext = get_extractor("inception", inception_weights=args.inception_weights)
    else:
        ext = Extractor(random_inception(), "inception-random", "uint8", "random", channels=3)
    g = torch.Generator().manual_seed(1)
    n = args.batch_size * args.batches
    imgs = torch.randint(0, 256, (n, 3, args.size, args.size), dtype=torch.uint8, generator=g)
    extract_features(imgs[:2], ext, batch_size=2)  # warm-up
    t = time.perf_counter()
    feats, _ = extract_features(imgs, ext, batch_size=args.batch_size)
    dt = time.perf_counter() - t
    print(
        f"Inception-v3 features on CPU ({torch.get_num_threads()} threads), batch "
        f"{args.batch_size}, {args.size}x{args.size} -> 299x299: {n} images in {dt:.1f} s = "
        f"{n / dt:.1f} images/s; features {tuple(feats.shape)}"
    )


if __name__ == "__main__":
    main()
