"""Reproduce the shipped digits feature network: ``python -m gankit.metrics.features.train_digits``.

Trains `DigitsNet` on scikit-learn's digits (stratified 80/20 split, seed 0; random +-1 pixel
shifts as augmentation), reports the held-out accuracy, refuses to write weights below 97 %, and
writes ``digits.safetensors`` (float32, with the accuracy and settings in its metadata) next to
this file or to ``--out``. Runs in well under a minute on a CPU; the same seed gives the same
weights on the same machine and torch version.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from gankit.data.images import load_digits_images
from gankit.metrics.features.digits import WEIGHTS_PATH, DigitsNet

SETTINGS = {
    "seed": 0,
    "epochs": 60,
    "batch_size": 64,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "test_size": 0.2,
}
MIN_ACCURACY = 0.97


def split_digits(seed: int = 0, test_size: float = 0.2):
    """The stratified train/held-out split the shipped net was trained and tested on."""
    from sklearn.model_selection import train_test_split  # heavy import (~1 s): only here

    x, y = load_digits_images(return_labels=True)
    return train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)


def _shift(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random integer shifts of -1, 0 or +1 pixel per image and axis, zero-filled."""
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (x.shape[0],), generator=gen)
    dx = torch.randint(0, 3, (x.shape[0],), generator=gen)
    rows = (dy[:, None] + torch.arange(8)[None, :])[:, None, :, None].expand(-1, 1, 8, 10)
    out = torch.gather(padded, 2, rows)
    cols = (dx[:, None] + torch.arange(8)[None, :])[:, None, None, :].expand(-1, 1, 8, 8)
    return torch.gather(out, 3, cols)


def accuracy(net: DigitsNet, x: np.ndarray, y: np.ndarray) -> float:
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(x))[1].argmax(1).numpy()
    return float((pred == y).mean())


def train(settings: dict = SETTINGS, verbose: bool = True) -> tuple[DigitsNet, float]:
    torch.manual_seed(settings["seed"])  # parameter initialisation
    gen = torch.Generator().manual_seed(settings["seed"])
    x_tr, x_te, y_tr, y_te = split_digits(settings["seed"], settings["test_size"])
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    net = DigitsNet()
    opt = torch.optim.AdamW(
        net.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"]
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings["epochs"])
    for epoch in range(settings["epochs"]):
        net.train()
        perm = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), settings["batch_size"]):
            idx = perm[start : start + settings["batch_size"]]
            _, logits = net(_shift(xt[idx], gen))
            loss = torch.nn.functional.cross_entropy(logits, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if verbose and (epoch + 1) % 10 == 0:
            print(
                f"epoch {epoch + 1}: loss {loss.item():.4f}, "
                f"held-out accuracy {accuracy(net, x_te, y_te):.4f}"
            )
    net.eval()
    return net, accuracy(net, x_te, y_te)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    net, acc = train()
    print(f"held-out accuracy: {acc:.4f}")
    if acc < MIN_ACCURACY:
        print(f"accuracy below {MIN_ACCURACY}: not writing {args.out}", file=sys.stderr)
        return 1
    state = {k: v.detach().contiguous().float() for k, v in net.state_dict().items()}
    meta = {
        "held_out_accuracy": f"{acc:.4f}",
        "settings": json.dumps(SETTINGS),
        "torch": torch.__version__,
    }
    tmp = args.out.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=meta)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
