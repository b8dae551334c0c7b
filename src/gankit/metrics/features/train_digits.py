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
from safetensors.torch import save

from gankit.data.images import load_digits_images
from gankit.errors import GankitError
from gankit.metrics.features.classifier import ClassifierStep
from gankit.metrics.features.digits import WEIGHTS_PATH, DigitsNet
from gankit.runs.atomic import atomic_write_bytes
from gankit.train.callbacks import Callback
from gankit.train.loop import Loop
from gankit.train.schedules import cosine_annealing_rates

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


def accuracy(net: DigitsNet, x: np.ndarray, y: np.ndarray) -> float:
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(x))[1].argmax(1).numpy()
    return float((pred == y).mean())


class _Verbose(Callback):
    """Every 10 epochs: the last step's loss and the held-out accuracy (the net is back in
    training mode at the next epoch's start)."""

    def __init__(self, step: ClassifierStep, x_te, y_te):
        self.step, self.x_te, self.y_te = step, x_te, y_te

    def on_step_end(self, loop) -> None:
        epoch, within = divmod(loop.step, self.step.steps_per_epoch)
        if within == 0 and epoch % 10 == 0:
            print(
                f"epoch {epoch}: loss {self.step.last_loss:.4f}, "
                f"held-out accuracy {accuracy(self.step.net, self.x_te, self.y_te):.4f}"
            )


def train(settings: dict = SETTINGS, verbose: bool = True) -> tuple[DigitsNet, float]:
    """`DigitsNet` trained as shipped: `ClassifierStep` (AdamW, shifts of up to one pixel)
    through `gankit.train.loop.Loop`, at torch's ``CosineAnnealingLR`` rate of each epoch
    (`gankit.train.schedules.cosine_annealing_rates`, to the bit: the phase's base rate is 1 and
    the schedule gives the rate itself); returns ``(net in eval mode, held-out accuracy)``."""
    torch.manual_seed(settings["seed"])  # parameter initialisation (and dropout)
    gen = torch.Generator().manual_seed(settings["seed"])
    x_tr, x_te, y_tr, y_te = split_digits(settings["seed"], settings["test_size"])
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    net = DigitsNet()
    s = {
        "batch_size": settings["batch_size"],
        "lr": 1.0,
        "weight_decay": settings["weight_decay"],
        "max_shift": 1,
    }
    step = ClassifierStep(net, xt, yt, s, gen, torch.device("cpu"))
    rates = cosine_annealing_rates(settings["lr"], settings["epochs"])
    loop = Loop(
        step,
        settings["epochs"] * step.steps_per_epoch,
        run_dir=None,
        callbacks=[_Verbose(step, x_te, y_te)] if verbose else [],
        log_every=step.steps_per_epoch,
        lr_factor=lambda k: rates[k // step.steps_per_epoch],
    )
    loop.fit()
    if loop.divergence is not None:
        raise GankitError(f"training diverged at step {loop.step}: {loop.divergence.reason}")
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
    atomic_write_bytes(args.out, save(state, metadata=meta))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
