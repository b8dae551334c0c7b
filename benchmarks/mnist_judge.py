"""An independent MNIST judge for the MNIST benchmarks: a LeNet-style classifier that gankit
neither trains nor uses, trained here once on the 60,000 MNIST training images and cached.

gankit's ``mnist`` preset is evaluated during training in gankit's own MNIST feature space (a
classifier gankit trains, `gankit.metrics.features.classifier`); judging gankit against a
baseline in that space would let gankit mark its own work. This judge is the classic LeNet
shape, written here in plain PyTorch:

* conv 1 -> 32, 5 x 5 (28 -> 24), ReLU, max-pool 2 (-> 12); conv 32 -> 64, 5 x 5 (-> 8), ReLU,
  max-pool 2 (-> 4); flatten (1,024); fc 1,024 -> 128 (**the features**: its outputs, taken
  before the ReLU that follows it); ReLU; fc 128 -> 10 (**logits**; softmax: the class
  probabilities). Before the ReLU the features are full rank on the 10,000 test images
  (covariance eigenvalues 0.012 to 427); after it 43 of the 128 units were zero on every test
  image, which would leave FID a 85-dimensional space;
* inputs: float images in [0, 1], ``(N, 1, 28, 28)`` (the IDX bytes / 255, no normalisation);
* training (`RECIPE`): Adam, the learning rate decayed linearly to zero over `RECIPE`'s
  epochs, batch 128, seeded (initialisation and data order; the caller's global torch RNG is
  left untouched); its accuracy on the 10,000 test images is reported (target >= 98.5 %).

The trained weights are cached as a plain ``state_dict`` file (``judge-<key>.pt``, loaded with
``torch.load(weights_only=True)``) beside a JSON record (accuracy, seconds, recipe), under
``--cache`` (default ``$GANKIT_JUDGE_CACHE`` or ``~/.cache/gankit-judge``). The key is a
sha256 of the recipe, the source of the net and of the training function, and the four MNIST
arrays: a changed recipe (or data) retrains; a cache file that does not load retrains.

Scores (`judge_scores`): FID of the samples against the 10,000 test images in the judge's
feature space (gankit's `gankit.metrics.fid.fid`: float64, unbiased covariances), beside the
floor (FID of 10,000 training images, a seeded subset, against the same test images: what a
perfect generator would score; computed once per `Judge`); the share of samples in each
arg-max class, the rarest class's share, and the share of confident samples (top probability
> 0.9). FID depends on the number of samples: compare numbers of the same sample count (the
benchmarks use 10,000).

Deterministic given the seed on the CPU with a fixed number of threads. On a shared machine with
more busy processes than cores, set ``OMP_WAIT_POLICY=PASSIVE``: OpenMP threads spinning at
barriers made 2 threads about 3x slower than 1 there.

    python benchmarks/mnist_judge.py [--data ../shared/data/mnist] [--cache DIR]
        [--threads 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import inspect
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: the MNIST folder beside the checkout (``../shared/data/mnist``, as the Makefile's ``DATA``)
DEFAULT_DATA = str(Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mnist")
FLOOR_SIZE = 10_000
FLOOR_SEED = 0
EVAL_BATCH = 1000
CONFIDENT = 0.9

#: how the judge is trained; any change here (or in `JudgeNet` / `train_judge`) retrains it
RECIPE = {
    "version": 1,
    "optimizer": "Adam",
    "lr": 1e-3,
    "betas": [0.9, 0.999],
    "schedule": "linear decay to 0 over all steps",
    "epochs": 3,
    "batch_size": 128,
    "seed": 0,
    "inputs": "uint8 / 255, no normalisation",
}


class MissingData(SystemExit):
    """Exit status 2 after one line on stderr: the MNIST files are absent or unreadable."""


def fail_data(script: str, reason: str) -> None:
    print(
        f"{script}: needs the MNIST IDX files: {reason}; pass their folder with --data FOLDER "
        "(nothing is downloaded)",
        file=sys.stderr,
    )
    raise MissingData(2)


def load_mnist(folder: str | Path, script: str = "mnist_judge"):
    """``(x_train, y_train, x_test, y_test)``: uint8 ``(N, 1, 28, 28)`` and int64 labels, read
    by gankit's own IDX reader (`gankit.data.datasets.load_idx_split`). When the files are
    absent or unreadable: one line on stderr naming the problem, then exit status 2."""
    from gankit.data.datasets import idx_split_files, load_idx_split
    from gankit.errors import GankitError

    try:
        for split in ("train", "test"):
            idx_split_files(folder, split)  # both splits present before anything is read
        x_train, y_train = load_idx_split(folder, "train")
        x_test, y_test = load_idx_split(folder, "test")
    except GankitError as exc:
        fail_data(script, " ".join(str(exc).split()))
    if x_train.shape[1:] != (1, 28, 28) or x_test.shape[1:] != (1, 28, 28):
        fail_data(script, f"{folder} holds {x_train.shape[1:]} images, not 28 x 28 MNIST")
    return x_train, y_train, x_test, y_test


def to01(images_u8: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1]."""
    return np.asarray(images_u8, dtype=np.float32) / 255.0


def default_cache_dir() -> Path:
    root = os.environ.get("GANKIT_JUDGE_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "gankit-judge"


@contextlib.contextmanager
def torch_threads(n: int | None):
    """``torch.set_num_threads(n)`` for the block (``None``: unchanged), restored after."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------- the net


class JudgeNet(nn.Module):
    """LeNet-style: conv5(32)-ReLU-pool, conv5(64)-ReLU-pool, fc(128) = features, ReLU, fc(10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.fc1 = nn.Linear(64 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc1(x.flatten(1))

    def head(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def train_judge(x01: np.ndarray, labels: np.ndarray, recipe: dict, log=print) -> JudgeNet:
    """`JudgeNet` trained on ``x01`` (float32 [0, 1], (N, 1, 28, 28)) as ``recipe`` says; the
    caller's global torch RNG is left as it was."""
    x = torch.from_numpy(np.ascontiguousarray(x01))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    n, bs, epochs = x.shape[0], recipe["batch_size"], recipe["epochs"]
    steps_per_epoch = -(-n // bs)
    total = epochs * steps_per_epoch
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe["seed"])
        net = JudgeNet()
    gen = torch.Generator().manual_seed(recipe["seed"] + 1)
    opt = torch.optim.Adam(net.parameters(), lr=recipe["lr"], betas=tuple(recipe["betas"]))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 - step / total)
    net.train()
    started = time.perf_counter()
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        loss_sum = correct = 0.0
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            logits = net(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum().item()
        log(
            f"  judge epoch {epoch + 1}/{epochs}: loss {loss_sum / n:.4f}, train accuracy "
            f"{correct / n:.4f}, {time.perf_counter() - started:.0f} s"
        )
    net.eval()
    return net


@torch.no_grad()
def forward_all(net: JudgeNet, images01, batch: int = EVAL_BATCH):
    """``(features (N, 128) float64, logits (N, 10) float64)`` of ``images01`` in eval mode."""
    x = check_images01(images01)
    feats, logits = [], []
    was = net.training
    net.eval()
    for i in range(0, x.shape[0], batch):
        f = net.features(x[i : i + batch])
        feats.append(f.double())
        logits.append(net.head(f).double())
    net.train(was)
    return torch.cat(feats).numpy(), torch.cat(logits).numpy()


def check_images01(images01) -> torch.Tensor:
    """``images01`` (numpy or torch) as a float32 tensor, checked: (N, 1, 28, 28), finite, in
    [0, 1]. Raises `ValueError` otherwise."""
    if torch.is_tensor(images01):
        x = images01.detach().to("cpu", torch.float32)
    else:
        x = torch.from_numpy(np.ascontiguousarray(images01, dtype=np.float32))
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28) or x.shape[0] < 1:
        raise ValueError(f"judge: images must be (N, 1, 28, 28), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("judge: images hold NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"judge: images must lie in [0, 1], got [{lo:.4g}, {hi:.4g}]")
    return x.contiguous()


# ----------------------------------------------------------------------------- the judge


@dataclass
class Judge:
    """The trained judge: `features`, `probabilities`, its test ``accuracy`` and FID floor."""

    net: JudgeNet
    accuracy: float
    key: str
    path: Path
    trained: bool  # trained now (False: loaded from the cache)
    seconds: float  # to train (now or when cached) or to load
    threads: int | None
    test_images01: np.ndarray
    floor_images01: np.ndarray
    _test_features: np.ndarray | None = field(default=None, repr=False)
    _floor: float | None = field(default=None, repr=False)

    def _forward(self, images01):
        with torch_threads(self.threads):
            return forward_all(self.net, images01)

    def features(self, images01) -> np.ndarray:
        """``(N, 128)`` float64: the penultimate layer's outputs (before its ReLU)."""
        return self._forward(images01)[0]

    def probabilities(self, images01) -> np.ndarray:
        """``(N, 10)`` float64 softmax of the logits."""
        return softmax(self._forward(images01)[1])

    def test_features(self) -> np.ndarray:
        if self._test_features is None:
            self._test_features = self.features(self.test_images01)
        return self._test_features

    @property
    def fid_floor(self) -> float:
        """FID of `FLOOR_SIZE` training images (a seeded subset) against the test images."""
        from gankit.metrics.fid import fid

        if self._floor is None:
            self._floor = fid(self.features(self.floor_images01), self.test_features())
        return self._floor

    def record(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "fid_floor": self.fid_floor,
            "key": self.key,
            "path": str(self.path),
            "trained_now": self.trained,
            "seconds": round(self.seconds, 1),
            "recipe": RECIPE,
            "features": "fc 1024 -> 128 before its ReLU (LeNet-style, 5x5 convs 32, 64)",
        }


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def judge_key(x_train, y_train, x_test, y_test) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(RECIPE, sort_keys=True).encode())
    h.update(inspect.getsource(JudgeNet).encode())
    h.update(inspect.getsource(train_judge).encode())
    for a in (x_train, y_train, x_test, y_test):
        a = np.ascontiguousarray(a)
        h.update(f"{a.shape}:{a.dtype};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    from gankit.runs.atomic import atomic_write_bytes

    atomic_write_bytes(path, data)


def _load_state(path: Path) -> JudgeNet | None:
    """The cached net, or None when the file is absent or does not load."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = JudgeNet()
        net.load_state_dict(state)
    except Exception:  # noqa: BLE001 - a truncated or foreign file: retrain and replace it
        return None
    return net.eval()


def load_or_train_judge(
    data_dir: str | Path,
    cache_dir: str | Path | None = None,
    threads: int | None = 1,
    log=print,
    mnist=None,
) -> Judge:
    """The judge for the MNIST files in ``data_dir``: loaded from ``cache_dir`` (default
    `default_cache_dir`) when its key is there, else trained (a couple of CPU minutes on one
    thread) and cached. ``mnist``: the four arrays of `load_mnist`, when already loaded. Exits
    with status 2 (one line on stderr) when the MNIST files are absent."""
    x_train, y_train, x_test, y_test = mnist if mnist is not None else load_mnist(data_dir)
    key = judge_key(x_train, y_train, x_test, y_test)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    path = cache / f"judge-{key[:20]}.pt"
    record_path = path.with_suffix(".json")
    test01 = to01(x_test)
    rng = np.random.default_rng(FLOOR_SEED)
    floor_idx = np.sort(rng.choice(len(x_train), size=min(FLOOR_SIZE, len(x_train)), replace=False))
    floor01 = to01(x_train[floor_idx])
    started = time.perf_counter()
    with torch_threads(threads):
        net = _load_state(path)
        trained = net is None
        if trained:
            log(f"judge: training (no cache at {path}) on {torch.get_num_threads()} thread(s)")
            net = train_judge(to01(x_train), y_train, RECIPE, log=log)
        feats, logits = forward_all(net, test01)
    accuracy = float((logits.argmax(1) == y_test).mean())
    seconds = time.perf_counter() - started
    if trained:
        buffer = io.BytesIO()
        torch.save(net.state_dict(), buffer)
        cache.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, buffer.getvalue())
        record = {
            "key": key,
            "accuracy": accuracy,
            "train_seconds": round(seconds, 1),
            "threads": threads,
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "torch": torch.__version__,
            "recipe": RECIPE,
        }
        _write_atomic(record_path, (json.dumps(record, indent=2) + "\n").encode())
    elif record_path.is_file():
        try:
            seconds = float(json.loads(record_path.read_text())["train_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    judge = Judge(net, accuracy, key, path, trained, seconds, threads, test01, floor01)
    judge._test_features = feats
    return judge


def judge_scores(judge: Judge, samples01, test_images01=None) -> dict:
    """The judge's verdict on ``samples01`` ((N, 1, 28, 28) float in [0, 1]): ``fid`` against
    ``test_images01`` (default: the judge's 10,000 test images; their features are computed
    once), ``fid_floor``, ``class_shares`` (10 floats, arg-max class), ``rarest_class_share``,
    ``confident_share`` (top probability > 0.9), ``samples``."""
    from gankit.metrics.fid import fid

    feats, logits = judge._forward(samples01)
    if test_images01 is None or test_images01 is judge.test_images01:
        test_feats = judge.test_features()
    else:
        test_feats = judge.features(test_images01)
    probs = softmax(logits)
    counts = np.bincount(probs.argmax(1), minlength=10)
    shares = counts / counts.sum()
    return {
        "fid": fid(feats, test_feats),
        "fid_floor": judge.fid_floor,
        "samples": int(feats.shape[0]),
        "class_shares": [round(float(s), 5) for s in shares],
        "rarest_class_share": float(shares.min()),
        "confident_share": float((probs.max(1) > CONFIDENT).mean()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder of the MNIST IDX files")
    ap.add_argument("--cache", default=None, help=f"judge cache folder ({default_cache_dir()})")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--json", default=None, help="write the judge's record here")
    args = ap.parse_args()
    mnist = load_mnist(args.data)
    judge = load_or_train_judge(args.data, args.cache, args.threads, mnist=mnist)
    t0 = time.perf_counter()
    floor = judge.fid_floor
    how = "trained now" if judge.trained else "loaded from the cache"
    print(
        f"judge {how} ({judge.path}; training took {judge.seconds:.0f} s)\n"
        f"test accuracy {judge.accuracy:.4f} (10,000 t10k images; target >= 0.985)\n"
        f"FID floor {floor:.4f} ({FLOOR_SIZE} training images vs the 10,000 test images, "
        f"{time.perf_counter() - t0:.1f} s)"
    )
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(judge.record(), indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
