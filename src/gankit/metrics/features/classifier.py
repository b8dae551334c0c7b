"""A feature space for any labelled image dataset: a small CNN classifier trained once on its
training split, cached under a hash of the data.

Without Inception weights (or for data Inception was never meant for, such as 28 x 28 digits),
gankit trains `ClassifierNet` on the dataset's *training* split, reports its accuracy on a
held-out split, and uses its penultimate layer as the feature space (FID, KID, PRDC) and its
logits for the Inception Score and class histograms. `classifier_extractor` caches the trained
weights (``<key>.safetensors``) and a record (``<key>.json``: held-out accuracy, train size,
seconds, architecture, weights hash) under ``$GANKIT_CACHE/classifiers`` (default
``~/.cache/gankit/classifiers``), keyed by a sha256 of the training images, labels, held-out
images and every setting; the second use only loads. Files are written whole or not at all
(`gankit.runs.atomic`: temporary file, fsync, rename; a failed write is a `RuntimeFailure` naming
the file); a corrupt or truncated file (checked against the weights hash) is ignored, retrained
and replaced. Only safetensors and JSON are read: never pickle.

Training is the package's one loop (`gankit.train.loop.Loop`, without a run directory) running
`ClassifierStep` under the one-cycle schedule (`gankit.train.schedules.one_cycle`). It is
deterministic given the seed on the CPU with a fixed number of threads (unless ``max_seconds``
cuts it short), and leaves the caller's global torch RNG untouched.

Example::

    extractor, info = classifier_extractor(x_train, y_train, x_test, y_test, name="mnist")
    print(info["heldout_accuracy"])           # e.g. 0.99
    features, logits = extract_features(samples, extractor)
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn

from gankit.data.checks import check_images, images_to_float01
from gankit.errors import GankitError
from gankit.metrics.features.cache import cache_key, data_hash, default_cache_dir
from gankit.metrics.features.registry import Extractor, module_hash
from gankit.runs.atomic import atomic_write_bytes, write_json
from gankit.train.callbacks import Callback
from gankit.train.loop import Loop
from gankit.train.schedules import one_cycle
from gankit.train.trainable import SingleModelTrainable

CACHE_VERSION = 1
MIN_IMAGE_SIZE = 8
MIN_STEPS = 1000  # automatic epochs: at least this many optimizer steps ...
MIN_EPOCHS = 3  # ... and at least this many passes over the data ...
MAX_AUTO_EPOCHS = 100  # ... but no more passes than this
EVAL_BATCH_SIZE = 500

__all__ = [
    "ClassifierNet",
    "classifier_extractor",
    "classifier_accuracy",
    "default_classifier_dir",
    "train_classifier",
]


#: the dimension of the classifier feature space (its penultimate layer)
DEFAULT_FEATURE_DIM = 128


def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def num_stages(image_size: tuple[int, int]) -> int:
    """Stride-2 stages: halve the smaller side while it stays >= 4, at most 3 times
    (8 -> 1 stage, 16 and 28 -> 2, 32 and larger -> 3)."""
    side, k = min(image_size), 0
    while k < 3 and side // 2 ** (k + 1) >= 4:
        k += 1
    return k


class ClassifierNet(nn.Module):
    """A small all-convolutional classifier that runs at the dataset's own image size.

    ``stem``: conv3x3(width/2)-BN-ReLU at full resolution; then 1 to 3 stages (see
    `num_stages`) of conv3x3 stride 2 -> conv3x3, each BN-ReLU, with width, 2 x width, 4 x width
    channels; conv1x1(feature_dim)-BN-ReLU; global average pool = **features**; ``head``:
    Linear(num_classes) = **logits**. Input: float images in [0, 1], ``(N, C, H, W)``.

    The features are the pooled activations feeding the classifier, as Inception's ``pool3``
    for FID. Measured on MNIST they are better conditioned than the pre-activations of an
    extra Linear(feature_dim) layer (whose covariance had one direction at 1e-10 of the
    largest) and, unlike that layer's ReLU outputs, have no dead (always zero) units: the
    covariance stays full rank for FID. The 1 x 1 expansion to ``feature_dim`` channels is
    what makes 128 features possible at all: a linear layer on the 2 x width = 64 pooled
    channels of the last stage would give features of rank 64.
    """

    def __init__(
        self,
        channels: int,
        image_size,
        num_classes: int,
        width: int = 32,
        feature_dim: int = DEFAULT_FEATURE_DIM,
    ):
        super().__init__()
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if len(size) != 2 or min(size) < MIN_IMAGE_SIZE:
            raise GankitError(
                f"ClassifierNet needs images of at least {MIN_IMAGE_SIZE} x {MIN_IMAGE_SIZE} "
                f"pixels, got image_size {image_size!r}"
            )
        if channels not in (1, 3):
            raise GankitError(f"ClassifierNet needs 1 or 3 channels, got {channels!r}")
        if num_classes < 2:
            raise GankitError(f"ClassifierNet needs at least 2 classes, got {num_classes}")
        if width < 2 or feature_dim < 1:
            raise GankitError(
                f"width must be >= 2 and feature_dim >= 1, got {width}, {feature_dim}"
            )
        self.arch = {
            "channels": int(channels),
            "image_size": [int(size[0]), int(size[1])],
            "num_classes": int(num_classes),
            "width": int(width),
            "feature_dim": int(feature_dim),
        }
        layers = [_conv_bn_relu(channels, max(width // 2, 1))]
        c = max(width // 2, 1)
        for k in range(num_stages(size)):
            c_out = width * 2**k
            layers += [_conv_bn_relu(c, c_out, stride=2), _conv_bn_relu(c_out, c_out)]
            c = c_out
        layers.append(
            nn.Sequential(
                nn.Conv2d(c, feature_dim, 1, bias=False),
                nn.BatchNorm2d(feature_dim),
                nn.ReLU(inplace=True),
            )
        )
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(feature_dim, num_classes)
        # channels-last convolutions run about twice as fast on CPUs (oneDNN)
        self.body.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = ((x - 0.5) / 0.5).contiguous(memory_format=torch.channels_last)
        features = self.body(x).mean(dim=(2, 3))
        return features, self.head(features)


# ----------------------------------------------------------------------------- checks


def _check_labels(labels, n: int, name: str) -> torch.Tensor:
    t = torch.from_numpy(np.asarray(labels)) if not isinstance(labels, torch.Tensor) else labels
    t = t.detach().cpu()
    if t.ndim != 1:
        raise GankitError(f"{name}: labels must be 1-D, got shape {tuple(t.shape)}")
    if t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
        raise GankitError(f"{name}: labels must be integers, got dtype {str(t.dtype)[6:]}")
    if t.shape[0] != n:
        raise GankitError(f"{name}: {t.shape[0]} labels for {n} images")
    return t.to(torch.int64)


def _check_data(train_images, train_labels, heldout_images, heldout_labels, num_classes=None):
    """Checked ``(x_train, y_train, x_heldout, y_heldout, num_classes)``; images stay uint8 or
    float (converted per batch)."""
    xt = check_images(train_images, "train_images")
    xh = check_images(heldout_images, "heldout_images")
    if tuple(xh.shape[1:]) != tuple(xt.shape[1:]):
        raise GankitError(
            f"heldout_images are {' x '.join(map(str, xh.shape[1:]))} but train_images are "
            f"{' x '.join(map(str, xt.shape[1:]))} (C x H x W)"
        )
    if min(xt.shape[2:]) < MIN_IMAGE_SIZE:
        raise GankitError(
            f"train_images: the classifier needs images of at least {MIN_IMAGE_SIZE} x "
            f"{MIN_IMAGE_SIZE} pixels, got {xt.shape[2]} x {xt.shape[3]}"
        )
    yt = _check_labels(train_labels, xt.shape[0], "train_labels")
    yh = _check_labels(heldout_labels, xh.shape[0], "heldout_labels")
    lo = int(min(yt.min(), yh.min()))
    if lo < 0:
        raise GankitError(f"labels must be in [0, num_classes), found label {lo}")
    if num_classes is None:
        num_classes = int(yt.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise GankitError(f"num_classes must be an integer, got {num_classes!r}")
    hi = int(max(yt.max(), yh.max()))
    if hi >= num_classes:
        where = "heldout_labels" if int(yh.max()) == hi else "train_labels"
        raise GankitError(
            f"{where}: label {hi} is out of range [0, {num_classes}) "
            "(held-out labels must be classes seen in training)"
        )
    distinct = int(torch.unique(yt).numel())
    if distinct < 2 or num_classes < 2:
        raise GankitError(
            f"train_labels: a classifier needs at least 2 classes, found {distinct} distinct "
            "label(s)"
        )
    return xt, yt, xh, yh, num_classes


def _positive_int(value, name: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise GankitError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _settings(
    n: int,
    *,
    seed: int,
    epochs,
    batch_size,
    lr: float,
    weight_decay: float,
    max_shift,
    max_seconds,
    image_size,
) -> dict:
    """Every training setting, resolved (``epochs`` and ``max_shift`` None: automatic)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise GankitError(f"seed must be an integer, got {seed!r}")
    batch_size = _positive_int(batch_size, "batch_size")
    epochs = _positive_int(epochs, "epochs", allow_none=True)
    steps_per_epoch = math.ceil(n / batch_size)
    if epochs is None:
        epochs = min(MAX_AUTO_EPOCHS, max(MIN_EPOCHS, math.ceil(MIN_STEPS / steps_per_epoch)))
    if max_shift is None:
        max_shift = 2 if min(image_size) >= 16 else 1
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise GankitError(f"max_shift must be a non-negative integer, got {max_shift!r}")
    if max_seconds is not None and not (
        isinstance(max_seconds, (int, float)) and math.isfinite(max_seconds) and max_seconds > 0
    ):
        raise GankitError(f"max_seconds must be a positive number or None, got {max_seconds!r}")
    for value, label in ((lr, "lr"), (weight_decay, "weight_decay")):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise GankitError(f"{label} must be a non-negative number, got {value!r}")
    return {
        "seed": int(seed),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": float(lr),
        "weight_decay": float(weight_decay),
        "max_shift": int(max_shift),
        "max_seconds": None if max_seconds is None else float(max_seconds),
        "schedule": "linear warm-up 15 % then cosine, AdamW",
    }


# ----------------------------------------------------------------------------- training


def _random_shift(x: torch.Tensor, s: int, gen: torch.Generator) -> torch.Tensor:
    """Each image moved by a random integer in [-s, s] along each axis, zero-filled."""
    if s == 0:
        return x
    b, c, h, w = x.shape
    padded = nn.functional.pad(x, (s, s, s, s))
    dy = torch.randint(0, 2 * s + 1, (b,), generator=gen)
    dx = torch.randint(0, 2 * s + 1, (b,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None].expand(b, c, h, w + 2 * s)
    out = torch.gather(padded, 2, rows)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :].expand(b, c, h, w)
    return torch.gather(out, 3, cols)


@torch.no_grad()
def _predict(net: nn.Module, images: torch.Tensor, device) -> torch.Tensor:
    preds = []
    for start in range(0, images.shape[0], EVAL_BATCH_SIZE):
        x = images_to_float01(images[start : start + EVAL_BATCH_SIZE]).to(device)
        preds.append(net(x)[1].argmax(1).cpu())
    return torch.cat(preds)


def classifier_accuracy(net: nn.Module, images, labels) -> float:
    """Accuracy of ``net`` (returning ``(features, logits)``) on checked images and labels."""
    x = check_images(images)
    y = _check_labels(labels, x.shape[0], "labels")
    was_training = net.training
    net.eval()
    try:
        device = next(net.parameters()).device
        return float((_predict(net, x, device) == y).double().mean())
    finally:
        net.train(was_training)


def _report(progress, info: dict) -> None:
    if progress is None or progress is False:
        return
    if callable(progress):
        progress(info)
        return
    print(
        f"classifier epoch {info['epoch']}/{info['epochs']}: loss {info['loss']:.4f}, "
        f"{info['seconds']:.0f} s",
        file=sys.stderr,
        flush=True,
    )


def train_classifier(
    train_images,
    train_labels,
    heldout_images,
    heldout_labels,
    *,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    max_shift: int | None = None,
    max_seconds: float | None = None,
    threads: int | None = None,
    progress: Callable[[dict], None] | bool | None = None,
    width: int = 32,
    feature_dim: int = 128,
    num_classes: int | None = None,
    device="cpu",
) -> tuple[ClassifierNet, float]:
    """Train `ClassifierNet` on ``(train_images, train_labels)``; return ``(net, accuracy on the
    held-out split)``, the net in eval mode with gradients off.

    Images: ``(N, C, H, W)`` uint8 or float in [0, 1], at least 8 x 8; labels: integers in
    ``[0, num_classes)`` (default ``num_classes``: the largest training label + 1).
    ``epochs`` None: at least 3 passes and at least 1000 optimizer steps (at most 100 passes).
    AdamW (``lr``, ``weight_decay``) with a one-cycle schedule (warm-up, cosine decay);
    augmentation: random shifts of up to ``max_shift`` pixels (None: 2 for images >= 16 px,
    else 1). ``max_seconds`` compresses the schedule to fit a wall-clock budget (the run is then
    no longer deterministic). ``threads`` sets torch's intra-op threads for the call only.
    ``progress``: True prints one line per epoch to stderr; a callable gets a dict per epoch.

    Deterministic given ``seed`` on the CPU (same machine, torch version and thread count); the
    caller's global torch RNG state is left as it was.
    """
    xt, yt, xh, yh, num_classes = _check_data(
        train_images, train_labels, heldout_images, heldout_labels, num_classes
    )
    image_size = tuple(xt.shape[2:])
    s = _settings(
        xt.shape[0],
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        max_shift=max_shift,
        max_seconds=max_seconds,
        image_size=image_size,
    )
    threads = _positive_int(threads, "threads", allow_none=True)
    device = torch.device(device)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s["seed"])  # parameter initialisation only
            net = ClassifierNet(xt.shape[1], image_size, num_classes, width, feature_dim)
        net = net.to(device)
        gen = torch.Generator().manual_seed(s["seed"])
        _fit(net, xt, yt, s, gen, device, progress)
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        accuracy = float((_predict(net, xh, device) == yh).double().mean())
    finally:
        torch.set_num_threads(old_threads)
    return net, accuracy


class ClassifierStep(SingleModelTrainable):
    """The classifier's side of the loop (`gankit.train.trainable.Trainable`): one phase, the
    cross-entropy of a minibatch. Each epoch (``steps_per_epoch`` steps) draws a permutation of
    the training set from ``gen``; step k of the epoch takes its k-th slice of ``batch_size``
    images, shifted at random (from ``gen`` too) by up to ``max_shift`` pixels. ``s``: the
    settings (``batch_size``, ``lr``: the phase's base rate, ``weight_decay``, ``max_shift``).
    The epoch's summed loss and image count (``loss_sum``, ``seen``) are what `EpochReport`
    reports; ``last_loss``: the last step's."""

    def __init__(self, net: nn.Module, xt, yt, s: dict, gen: torch.Generator, device):
        self.net, self.xt, self.yt, self.s, self.gen, self.device = net, xt, yt, s, gen, device
        self.n, self.bs = xt.shape[0], s["batch_size"]
        self.steps_per_epoch = math.ceil(self.n / self.bs)
        opt = torch.optim.AdamW(net.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
        super().__init__(net, opt, s["lr"], {"data": gen}, name="net")
        self.perm: torch.Tensor | None = None
        self.start = 0
        self.loss_sum, self.seen, self.last_loss = 0.0, 0, math.nan

    def begin(self, step: int) -> None:
        k = step % self.steps_per_epoch
        if k == 0:  # an epoch begins
            self.net.train()
            self.perm = torch.randperm(self.n, generator=self.gen)
            self.loss_sum, self.seen = 0.0, 0
        self.start = k * self.bs

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, torch.Tensor]:
        idx = self.perm[self.start : self.start + self.bs]
        x = images_to_float01(self.xt[idx])
        x = _random_shift(x, self.s["max_shift"], self.gen).to(self.device)
        _, logits = self.net(x)
        loss = nn.functional.cross_entropy(logits, self.yt[idx].to(self.device))
        loss.backward()
        self.last_loss = loss.item()
        self.loss_sum += self.last_loss * idx.numel()
        self.seen += idx.numel()
        return {"loss": loss.detach()}


class TimeBudget(Callback):
    """The schedule's progress (`fraction`): the steps' fraction, or with ``max_seconds`` the
    larger of it and the seconds' fraction, read before each step (at the fit's start, then at
    the end of the step before); the fit stops when the seconds are spent."""

    def __init__(self, total: int, max_seconds: float | None):
        self.total, self.max_seconds = total, max_seconds
        self.started = 0.0  # set when the fit starts
        self.spent = 0.0  # the seconds' fraction read before the coming step

    def _read(self) -> None:
        if self.max_seconds is not None:
            self.spent = (time.perf_counter() - self.started) / self.max_seconds

    def on_fit_start(self, loop) -> None:
        self.started = time.perf_counter()
        self._read()

    def fraction(self, step: int) -> float:
        """The progress at ``step`` (0-based): what the loop's ``lr_factor(step)`` reads."""
        return max(step / self.total, self.spent)

    def on_step_end(self, loop) -> None:
        if loop.step < loop.end:
            self._read()
            if self.fraction(loop.step) >= 1.0:
                loop.stop(f"max_seconds = {self.max_seconds} spent")


class EpochReport(Callback):
    """`_report` after each epoch, with its mean loss and the seconds since the fit's start
    (``budget.started``); after a stop, for the part of an epoch done. Runs before ``budget``."""

    def __init__(self, step: ClassifierStep, epochs: int, progress, budget: TimeBudget):
        self.trainable, self.epochs, self.progress, self.budget = step, epochs, progress, budget

    def _report(self, loop) -> None:
        t = self.trainable
        if t.seen:
            info = {
                "epoch": (loop.step - 1) // t.steps_per_epoch + 1,
                "epochs": self.epochs,
                "loss": t.loss_sum / t.seen,
                "seconds": time.perf_counter() - self.budget.started,
            }
            t.loss_sum, t.seen = 0.0, 0
            _report(self.progress, info)

    def on_step_end(self, loop) -> None:
        if loop.step % self.trainable.steps_per_epoch == 0:
            self._report(loop)

    def on_fit_end(self, loop) -> None:
        if loop.stopped_reason and loop.divergence is None:
            self._report(loop)


def _fit(net, xt, yt, s, gen, device, progress) -> None:
    """``s["epochs"]`` epochs of `ClassifierStep` through `gankit.train.loop.Loop`, under the
    one-cycle schedule (`gankit.train.schedules.one_cycle`), at most ``s["max_seconds"]``."""
    step = ClassifierStep(net, xt, yt, s, gen, device)
    total = s["epochs"] * step.steps_per_epoch
    budget = TimeBudget(total, s["max_seconds"])
    report = EpochReport(step, s["epochs"], progress, budget)
    loop = Loop(
        step,
        total,
        run_dir=None,
        callbacks=(report, budget),
        log_every=total,
        lr_factor=lambda k: one_cycle(budget.fraction(k)),
    )
    loop.fit()
    if loop.divergence is not None:
        raise GankitError(
            f"the feature classifier diverged at step {loop.step}: {loop.divergence.reason}"
        )


# ----------------------------------------------------------------------------- cache


def default_classifier_dir() -> Path:
    """``$GANKIT_CACHE/classifiers`` or ``~/.cache/gankit/classifiers``."""
    return default_cache_dir().parent / "classifiers"


def _save(net: ClassifierNet, record: dict, weights: Path, record_path: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    meta = {
        "format": "gankit-classifier",
        "version": str(CACHE_VERSION),
        "architecture": json.dumps(net.arch, sort_keys=True),
        "heldout_accuracy": f"{record['heldout_accuracy']:.6f}",
        "name": record["name"],
    }
    atomic_write_bytes(weights, save(state, metadata=meta))
    write_json(record_path, record)


def _load(weights: Path, record_path: Path, key: str, arch: dict):
    """``(net, record)`` from the cache, or None when missing, corrupt or not matching."""
    if not (weights.is_file() and record_path.is_file()):
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("key") != key:
            return None
        if record.get("architecture") != arch:
            return None
        with safe_open(str(weights), framework="pt") as f:
            meta = f.metadata() or {}
            if json.loads(meta.get("architecture", "null")) != arch:
                return None
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        net = ClassifierNet(**arch)
        net.load_state_dict(state, strict=True)
        if module_hash(net) != record.get("weights_sha256"):
            return None
        for field in ("heldout_accuracy", "train_size", "seconds"):
            if not isinstance(record.get(field), (int, float)):
                return None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError):
        return None
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net, record


def classifier_extractor(
    train_images,
    train_labels,
    heldout_images,
    heldout_labels,
    name: str,
    cache_dir: str | Path | None = None,
    device="cpu",
    **train_kwargs,
) -> tuple[Extractor, dict]:
    """The feature space of a classifier trained once on this labelled dataset, cached.

    Returns ``(extractor, info)``: an `Extractor` named ``name`` (input float in [0, 1], the
    training images' ``C x H x W`` only; features ``(N, feature_dim)`` float32, logits
    ``(N, num_classes)``) whose identity includes the cache key and the weights hash, and
    ``info = {"name", "heldout_accuracy", "train_size", "seconds", "cached", "key", "path"}``
    (``seconds``: the training time, also on a cache hit). ``train_kwargs`` go to
    `train_classifier` (all but ``threads``, ``progress`` and ``device`` enter the key).
    ``cache_dir`` None: `default_classifier_dir`.
    """
    if not isinstance(name, str) or not name.strip():
        raise GankitError(f"classifier name must be a non-empty string, got {name!r}")
    xt, yt, xh, yh, num_classes = _check_data(
        train_images,
        train_labels,
        heldout_images,
        heldout_labels,
        train_kwargs.get("num_classes"),
    )
    allowed = {
        "seed", "epochs", "batch_size", "lr", "weight_decay", "max_shift", "max_seconds",
        "threads", "progress", "width", "feature_dim", "num_classes",
    }  # fmt: skip
    unknown = sorted(set(train_kwargs) - allowed)
    if unknown:
        raise GankitError(f"unknown training option(s) {unknown}; known: {sorted(allowed)}")
    defaults = {
        "seed": 0, "epochs": None, "batch_size": 128, "lr": 3e-3, "weight_decay": 1e-4,
        "max_shift": None, "max_seconds": None,
    }  # fmt: skip
    opts = {k: train_kwargs.get(k, v) for k, v in defaults.items()}
    settings = _settings(xt.shape[0], image_size=tuple(xt.shape[2:]), **opts)
    arch = ClassifierNet(
        xt.shape[1],
        tuple(xt.shape[2:]),
        num_classes,
        train_kwargs.get("width", 32),
        train_kwargs.get("feature_dim", 128),
    ).arch
    key = cache_key(
        kind="classifier-features",
        version=CACHE_VERSION,
        data=data_hash(xt.numpy()),
        labels=data_hash(yt.numpy()),
        heldout=data_hash(xh.numpy()),
        settings={**settings, "architecture": arch},
    )
    folder = Path(cache_dir) if cache_dir is not None else default_classifier_dir()
    weights, record_path = folder / f"{key}.safetensors", folder / f"{key}.json"
    loaded = _load(weights, record_path, key, arch)
    cached = loaded is not None
    if cached:
        net, record = loaded
    else:
        t0 = time.perf_counter()
        net, accuracy = train_classifier(xt, yt, xh, yh, **train_kwargs, device="cpu")
        seconds = time.perf_counter() - t0
        net = net.cpu()
        record = {
            "key": key,
            "name": name,
            "heldout_accuracy": accuracy,
            "heldout_size": int(xh.shape[0]),
            "train_size": int(xt.shape[0]),
            "num_classes": num_classes,
            "seconds": seconds,
            "architecture": arch,
            "settings": settings,
            "weights_sha256": module_hash(net),
            "torch": torch.__version__,
        }
        _save(net, record, weights, record_path)
    extractor = Extractor(
        net,
        name,
        "float01",
        f"classifier:{name}:{key}:{record['weights_sha256']}",
        image_shape=tuple(xt.shape[1:]),
        device=device,
        batch_size=EVAL_BATCH_SIZE,
    )
    info = {
        "name": name,
        "heldout_accuracy": float(record["heldout_accuracy"]),
        "train_size": int(record["train_size"]),
        "seconds": float(record["seconds"]),
        "cached": cached,
        "key": key,
        "path": str(weights),
    }
    return extractor, info
