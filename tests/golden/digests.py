"""Digests of a short run of every preset: what the refactors of issue 11 must not change.

`run_digest(preset, out)` trains ``preset`` on seed 0 at a reduced budget (one torch thread)
and returns a sha256 per file of the run directory that carries numbers: ``metrics.jsonl``
(each row without its wall-clock ``time``), every checkpoint's tensors (names, dtypes, shapes,
bytes) and step, the snapshots' arrays, ``final_metrics.json``, ``diagnosis.json``, AdaGAN's
``mixture.json`` and its rounds' sub-runs. Pictures and pages (``*.png``, ``report.html``,
``tb/``) are left out: they carry timestamps and renderer details; so is ``config.toml``, which
gains a line with each new config key (whose default changes nothing) -- that a run's
``config.toml`` reproduces the run is tested in ``tests/test_cli_train.py``.

Re-recorded for ``diagnosis.json`` alone, twice: the diagnosis of issue 12 says which checks it
could and could not make, and issue 22's image mode-collapse check reads a collapse only from
two evaluations of the second half. The image presets' ``metrics.jsonl`` and
``final_metrics.json`` were re-recorded once more for issue 22's KID scale (outside Inception,
KID's features are divided by the held-out split's RMS entry), and the ``mnist`` and
``fashion-mnist`` presets' whole records for issue 23's recipe (SNGAN training); the ``digits``
preset's two metric files for issue 24's per-class keys (class agreement per class, intra-class
FID). The presets of issue 24 (``mnist-conditional``, ``fashion-mnist-conditional``, InfoGAN,
the semi-supervised GAN, pix2pix) and of issue 25 (BiGAN/ALI, the RBM, PCA, the Gaussian
mixture, the autoencoder, PixelCNN, ``vae-mnist``) were recorded when they arrived; the non-GAN
families' ``diagnosis.json`` once more when the skipped checks' reason lost its doubled "not
checked:"; ``mnist`` and ``digits-unconditional`` whole when issue 23 made them
self-conditioned (``data.clusters``); issue 25's grid-25 baselines (PCA, the mixture, the VAE,
BiGAN) when they arrived, and the toy and digits VAEs' metric files when their presets gained
the importance-weighted bound (``vae.iwae_samples = 500``) for the families' comparison;
``rbm-ring-8``, ``rbm-grid-25``, ``alice-mnist`` and ``alice-digits`` when they arrived;
``pix2pix-mnist`` when its preset gained G's EMA (``model.ema = 0.998``), and ``pca-grid-25``'s and
``vae-grid-25``'s ``diagnosis.json`` when a collapse of a family without a discriminator
stopped blaming one and offering a GAN's switches, and ``infogan-digits`` whole when its preset
gained fully-connected layers (``model.g_fc = model.d_fc = 512``), and
``semi-supervised-digits`` whole when its D gained one (``model.d_fc = 128``), and both
semi-supervised presets' metric files when they gained ``unlabelled_accuracy``: on the first
platform of ``platforms/`` only. Every other digest as recorded before the refactors.

Wall-clock keys (``time``, ``eval_seconds``, ``snapshot_seconds``) are not behaviour: left out.

The image presets run at the same budget with the few more overrides of `IMAGE_OVERRIDES`. The
four that read ``data.path`` read tiny stand-ins in each published format, written afresh by
`image_data.write_dataset` (no real data needed); every preset runs with ``$GANKIT_CACHE`` set
to a folder of the run's own (``--record``: fresh and empty, so a classifier feature space is
trained from scratch each time) or one the test shares between presets (the first trains, the
rest read the same weights back); never the user's cache.

``python tests/golden/digests.py --record`` rewrites ``tests/golden/presets.json``; the test
``tests/test_golden_presets.py`` compares against it.

Numeric platforms: the same code on another CPU can round differently (MKL, oneDNN and ATen pick
their kernels by instruction set: a machine with AVX-512 and AMX writes other last bits than
the machine ``presets.json`` was recorded on), so a run's bytes are pinned per platform.
`numeric_fingerprint` hashes a fixed battery of the operations training runs (matrix products,
convolutions, normalisations, activations, reductions, an Adam step) at one thread; a machine
whose fingerprint has a file ``platforms/<fingerprint>.json`` is compared with it (preset by
preset, over ``presets.json``), any other with ``presets.json``. ``--platform`` records this
machine's file, for a platform whose floats differ and only then (run it on code whose digests
pass on the reference platform). ``--record``, for a change meant to alter the numbers, writes
them into this machine's file (``presets.json`` where it has none) and drops the preset from
every other file: those numbers are stale, and a platform without the preset skips it, saying
so, until it records its own.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

# One OpenMP thread from the start, as the test suite runs (tests/conftest.py): a classifier
# feature space trained under other threading settings differs in its last bits.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open

HERE = Path(__file__).parent
RECORD = HERE / "presets.json"
PLATFORMS = HERE / "platforms"
#: the reduced budget: every part of the pipeline runs (logging, evaluation, snapshots,
#: checkpoints, the final evaluation, the diagnosis) in a second or two per preset
BUDGET = [
    "train.steps=40",
    "train.threads=1",
    "train.checkpoint_every=20",
    "log.every=5",
    "log.eval_every=20",
    "log.eval_samples=500",
    "log.final_samples=1000",
]
#: what the image presets add to BUDGET, each to keep its digest to a few seconds (the nets,
#: losses, optimizers and augmentations stay the preset's)
_DRAWS = ["log.final_draws=2"]  # FID's mean over 2 independent draws, not 100: still pinned
#: the stand-ins (image_data.py) hold 64 training and 130 held-out images: FID in the
#: classifier feature space's 128 dimensions needs 129 held-out images and 129 samples, and the
#: classifier's automatic schedule (100 passes over so few) costs 100 steps of 64 images; G's
#: samples are cut to 200 and the batches to 16 (at 64 the preset's 32x32 nets take 4x as long)
_STAND_IN = [*_DRAWS, "log.eval_samples=200", "log.final_samples=200", "train.batch_size=16"]
IMAGE_OVERRIDES = {
    "digits": _DRAWS,
    "digits-unconditional": _DRAWS,
    "vae-digits": _DRAWS,
    "mnist": _STAND_IN,
    "fashion-mnist": _STAND_IN,
    "mnist-conditional": _STAND_IN,
    "fashion-mnist-conditional": _STAND_IN,
    "cifar10": _STAND_IN,
    # the GAN variants of issue 24, recorded when they arrived; the stand-in's 64 training
    # images hold too few of each class for the semi-supervised preset's 10 labels per class
    "infogan-digits": _DRAWS,
    "infogan-mnist": _STAND_IN,
    "semi-supervised-digits": _DRAWS,
    "semi-supervised-mnist": [*_STAND_IN, "semi.labels_per_class=2"],
    "pix2pix-digits": _DRAWS,
    "pix2pix-mnist": _STAND_IN,
    "bigan-digits": _DRAWS,
    "bigan-mnist": _STAND_IN,
    "alice-mnist": _STAND_IN,
    "alice-digits": _DRAWS,
    # the RBM's chains and AIS cut to keep its digests to seconds (its CD steps stay the preset's)
    "rbm-digits": [*_DRAWS, "rbm.sample_steps=50", "rbm.ais_betas=500"],
    "rbm-mnist": [*_STAND_IN, "rbm.sample_steps=50", "rbm.ais_betas=500", "rbm.ais_chains=20"],
    # the classical baselines of issue 25: PCA and the mixture read no minibatch (and refuse
    # train.batch_size); vae-mnist's bound on 20 held-out images, k = 50
    "pca-digits": _DRAWS,
    "gmm-digits": _DRAWS,
    "autoencoder-digits": _DRAWS,
    "pca-mnist": [*_DRAWS, "log.eval_samples=200", "log.final_samples=200", "pca.components=8"],
    "gmm-mnist": [*_DRAWS, "log.eval_samples=200", "log.final_samples=200", "gmm.components=5"],
    "autoencoder-mnist": _STAND_IN,
    "vae-mnist": [*_STAND_IN, "vae.iwae_samples=50", "vae.iwae_examples=20"],
    # PixelCNN samples pixel by pixel (H * W passes): few samples (FID in the digits space
    # needs 65; the MNIST preset evaluates without FID, from 6)
    "pixelcnn-digits": [*_DRAWS, "log.eval_samples=100", "log.final_samples=100"],
    "pixelcnn-mnist": [*_STAND_IN, "log.eval_samples=8", "log.final_samples=8", "log.grid=4"],
    # 200 images, 130 held out (the preset's 0.1 would need 1,290 images and a classifier
    # trained on 1,160: ten times as long)
    "image-folder": [*_STAND_IN, "data.heldout_fraction=0.65"],
}
#: the image presets that read data.path: the stand-in dataset each reads
IMAGE_DATA = {
    "mnist": "mnist",
    "fashion-mnist": "fashion-mnist",
    "mnist-conditional": "mnist",
    "fashion-mnist-conditional": "fashion-mnist",
    "infogan-mnist": "mnist",
    "semi-supervised-mnist": "mnist",
    "pix2pix-mnist": "mnist",
    "rbm-mnist": "mnist",
    "bigan-mnist": "mnist",
    "alice-mnist": "mnist",
    "pca-mnist": "mnist",
    "gmm-mnist": "mnist",
    "autoencoder-mnist": "mnist",
    "vae-mnist": "mnist",
    "pixelcnn-mnist": "mnist",
    "cifar10": "cifar10",
    "image-folder": "image-folder",
}
SKIP_SUFFIXES = (".png", ".html", ".toml")
SKIP_DIRS = ("tb",)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tensor_bytes(name: str, t: torch.Tensor) -> bytes:
    t = t.contiguous().reshape(-1)
    head = f"{name}:{t.dtype}:{tuple(t.shape)};".encode()
    return head + t.view(torch.uint8).numpy().tobytes() if t.numel() else head


def _checkpoint_digest(path: Path) -> str:
    h = hashlib.sha256()
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata() or {}
        h.update(f"step={meta.get('step')};".encode())
        for name in sorted(fh.keys()):
            h.update(_tensor_bytes(name, fh.get_tensor(name)))
    return h.hexdigest()


def _metrics_digest(path: Path) -> str:
    from gankit.runs import without_wall_clock  # gankit is imported late throughout this script

    rows = []
    for line in path.read_text().splitlines():
        rows.append(json.dumps(without_wall_clock(json.loads(line)), sort_keys=True))
    return _sha("\n".join(rows).encode())


def _npz_digest(path: Path) -> str:
    h = hashlib.sha256()
    with np.load(path, allow_pickle=False) as npz:
        for key in sorted(npz.files):
            a = np.ascontiguousarray(npz[key])
            h.update(f"{key}:{a.dtype}:{a.shape};".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def _json_digest(path: Path) -> str:
    return _sha(json.dumps(json.loads(path.read_text()), sort_keys=True).encode())


def directory_digest(run: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of the run directory's number-carrying files."""
    out = {}
    for path in sorted(run.rglob("*")):
        rel = path.relative_to(run)
        if not path.is_file() or rel.parts[0] in SKIP_DIRS or path.suffix in SKIP_SUFFIXES:
            continue
        if path.name.startswith("."):
            continue
        if path.suffix == ".safetensors":
            digest = _checkpoint_digest(path)
        elif path.name == "metrics.jsonl":
            digest = _metrics_digest(path)
        elif path.suffix == ".npz":
            digest = _npz_digest(path)
        elif path.suffix == ".json":
            digest = _json_digest(path)
        else:
            digest = _sha(path.read_bytes())
        out[str(rel)] = digest
    return out


@contextlib.contextmanager
def _env(name: str, value: str):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def numeric_fingerprint() -> str:
    """16 hex digits of sha256 over a fixed battery of float32 operations, at one thread: equal
    on machines whose kernels round alike, different where training's last bits would differ
    (see the module docstring)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    # the modules' default init draws from the global RNG: its state is restored after
    with torch.random.fork_rng(devices=[]):
        try:
            return _battery_digest()
        finally:
            torch.set_num_threads(threads)


def _battery_digest() -> str:
    """`numeric_fingerprint`'s battery: every input drawn from one seeded generator."""
    g = torch.Generator().manual_seed(0)
    outs = []
    for n, k, m in ((10, 64, 100), (64, 128, 256), (500, 2, 128), (16, 3136, 1)):
        a, b = torch.randn(n, k, generator=g), torch.randn(k, m, generator=g)
        outs += [a @ b, torch.addmm(torch.randn(m, generator=g), a, b)]
    x = torch.randn(8, 3, 16, 16, generator=g, requires_grad=True)
    conv = torch.nn.Conv2d(3, 16, 4, 2, 1)
    deconv = torch.nn.ConvTranspose2d(16, 3, 4, 2, 1)
    bn = torch.nn.BatchNorm2d(16)
    for module in (conv, deconv, bn):
        for p in module.parameters():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    h = torch.nn.functional.leaky_relu(bn(conv(x)), 0.2)
    y = torch.tanh(deconv(h))
    loss = torch.nn.functional.softplus(y).mean() + torch.logsumexp(h.flatten(1), 1).sum()
    loss = loss + torch.nn.functional.group_norm(h, 1).sigmoid().log1p().sum()
    params = [*conv.parameters(), *deconv.parameters(), *bn.parameters()]
    loss.backward()
    torch.optim.Adam(params, lr=1e-3).step()
    outs += [h, y, loss.detach(), x.grad, *[p.detach() for p in params]]
    mlp = torch.nn.Sequential(
        torch.nn.Linear(1, 32), torch.nn.Softplus(), torch.nn.Linear(32, 1), torch.nn.Sigmoid()
    )
    with torch.no_grad():  # every input from g: nothing of the global RNG's state
        for p in mlp.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    sgd = torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        sgd.zero_grad()
        torch.log(mlp(torch.randn(64, 1, generator=g)) + 1e-8).mean().backward()
        sgd.step()
    outs += [p.detach() for p in mlp.parameters()]
    u = torch.rand(1000, 64, generator=g)
    outs += [u.exp(), u.log(), u.tanh(), u.sum(0), u.var(1), torch.cdist(u[:50], u[50:120])]
    # numpy and scipy, which the metrics use: SIMD transcendentals, BLAS, LAPACK
    rng = np.random.default_rng(0)
    v = rng.random((300, 16))
    arrays = [np.exp(v), np.log(v), np.tanh(v), np.power(v, 1.7), v.sum(0), v.var(0)]
    arrays += [np.exp(v.astype(np.float32)), np.log(v.astype(np.float32)), v.T @ v]
    cov = np.cov(v, rowvar=False)
    arrays += [scipy.linalg.sqrtm(cov @ cov.T), np.linalg.eigh(cov)[0]]
    digest = hashlib.sha256()
    for i, t in enumerate(outs):
        digest.update(_tensor_bytes(str(i), t.detach()))
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()[:16]


def platform_record() -> Path:
    """This machine's platform file: ``platforms/<its fingerprint>.json``."""
    return PLATFORMS / f"{numeric_fingerprint()}.json"


def _read(path: Path) -> dict[str, dict[str, str]]:
    return json.loads(path.read_text()) if path.is_file() else {}


def recorded_presets() -> list[str]:
    """Every preset with digests on some platform (``presets.json`` or a platform file)."""
    names = set(_read(RECORD))
    for path in PLATFORMS.glob("*.json"):
        names |= set(_read(path))
    return sorted(names)


def expected_digests() -> tuple[dict[str, dict[str, str]], str]:
    """(``{preset: {file: sha256}}`` this machine is compared with, where they came from): its
    platform file over ``presets.json``, preset by preset. A preset in neither (recorded on
    other platforms only) is missing: nothing here to compare it with."""
    expected = _read(RECORD)
    own = platform_record()
    if not own.is_file():
        return expected, f"{RECORD.name} (this machine's platform {own.stem} has no file)"
    expected.update(_read(own))
    return expected, f"{PLATFORMS.name}/{own.name} over {RECORD.name}"


def overrides_for(preset: str, work: Path) -> list[str]:
    """BUDGET, the preset's `IMAGE_OVERRIDES`, and ``data.path`` to its stand-in dataset,
    written into ``work / "data"``."""
    extra = list(IMAGE_OVERRIDES.get(preset, []))
    if preset in IMAGE_DATA:
        from image_data import write_dataset  # beside this file, as digests.py is imported

        folder = write_dataset(IMAGE_DATA[preset], work / "data")
        extra.append(f"data.path={folder}")
    return BUDGET + extra


def run_digest(
    preset: str, out: Path, work: Path | None = None, cache: Path | None = None
) -> dict[str, str]:
    """Train ``preset`` into ``out`` at the reduced budget and return `directory_digest`.
    ``work`` (an empty folder; default a temporary one, removed after) holds the stand-in
    dataset and, unless ``cache`` names one, the run's ``$GANKIT_CACHE``, empty at the start.
    A ``cache`` shared by several presets holds the classifier feature spaces the first of
    them trained on the (identical) stand-ins: a hit reads the very weights a fresh training
    writes, so the digests are the same."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="gankit-golden-") as tmp:
            return run_digest(preset, out, Path(tmp), cache)
    from gankit import api
    from gankit import config as config_mod

    torch.set_num_threads(1)
    work = Path(work)
    if cache is None:
        cache = work / "cache"
        cache.mkdir(parents=True)
    config = config_mod.resolve(preset=preset, overrides=overrides_for(preset, work))
    with _env("GANKIT_CACHE", str(cache)):
        api.train(config, out, progress=False)
    return directory_digest(out)


def record_new_numbers(found: dict[str, dict[str, str]]) -> None:
    """``--record``: ``found`` into this machine's file (``presets.json`` where it has none),
    its presets dropped from every other file (a platform file left empty is removed)."""
    own = platform_record()
    mine = own if own.is_file() else RECORD
    for path in sorted({RECORD, *PLATFORMS.glob("*.json")} - {mine}):
        kept = {k: v for k, v in _read(path).items() if k not in found}
        if path != RECORD and not kept:
            path.unlink()
            print(f"removed {path}")
        else:
            _write(path, kept)
    _write(mine, {**_read(mine), **found})


def record_platform(found: dict[str, dict[str, str]]) -> None:
    """``--platform``: ``found`` into this machine's file, but the presets whose digests equal
    ``presets.json``'s (nothing to add)."""
    reference = _read(RECORD)
    same = [n for n in found if reference.get(n) == found[n]]
    if same:
        print(f"not recorded: the same as {RECORD.name}: {same}")
    own = platform_record()
    new = {**_read(own), **{n: d for n, d in found.items() if n not in same}}
    _write(own, new) if new else print("nothing to record")


def _write(path: Path, digests: dict) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--record",
        action="store_true",
        help="numbers meant to change: into this machine's platform file (else "
        f"{RECORD.name}), dropped from every other file",
    )
    mode.add_argument(
        "--platform",
        action="store_true",
        help=f"record this machine's {PLATFORMS.name}/<fingerprint>.json (other rounding only)",
    )
    parser.add_argument("presets", nargs="*", help="presets (default: all)")
    args = parser.parse_args()
    from gankit import config as config_mod

    names = args.presets or config_mod.preset_names()
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            found[name] = run_digest(name, Path(tmp) / name)
            print(name, len(found[name]), "files", flush=True)
    if args.record:
        record_new_numbers(found)
    elif args.platform:
        record_platform(found)
    else:
        expected, source = expected_digests()
        bad = [n for n in names if expected.get(n) != found[n]]
        print(f"against {source}; differ:", bad or "none")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
