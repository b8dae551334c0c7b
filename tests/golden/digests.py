"""Digests of a short run of every preset: what the refactors of issue 11 must not change.

`run_digest(preset, out)` trains ``preset`` on seed 0 at a reduced budget (one torch thread)
and returns a sha256 per file of the run directory that carries numbers: ``metrics.jsonl``
(each row without its wall-clock ``time``), every checkpoint's tensors (names, dtypes, shapes,
bytes) and step, the snapshots' arrays, ``final_metrics.json``, ``diagnosis.json``, AdaGAN's
``mixture.json`` and its rounds' sub-runs. Pictures and pages (``*.png``, ``report.html``,
``tb/``) are left out: they carry timestamps and renderer details; so is ``config.toml``, which
gains a line with each new config key (whose default changes nothing) -- that a run's
``config.toml`` reproduces the run is tested in ``tests/test_cli_train.py``.

Re-recorded once, for ``diagnosis.json`` alone: the diagnosis of issue 12 says which checks it
could and could not make (every other digest as recorded before the architecture refactor).

Wall-clock keys (``time``, ``eval_seconds``, ``snapshot_seconds``) are not behaviour: left out.

``python tests/golden/digests.py --record`` rewrites ``tests/golden/presets.json``; the test
``tests/test_golden_presets.py`` compares against it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open

HERE = Path(__file__).parent
RECORD = HERE / "presets.json"
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


def run_digest(preset: str, out: Path) -> dict[str, str]:
    from gankit import api
    from gankit import config as config_mod

    torch.set_num_threads(1)
    config = config_mod.resolve(preset=preset, overrides=BUDGET)
    api.train(config, out, progress=False)
    return directory_digest(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"rewrite {RECORD.name}")
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
        old = json.loads(RECORD.read_text()) if RECORD.is_file() else {}
        old.update(found)
        RECORD.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
        print(f"wrote {RECORD}")
    else:
        expected = json.loads(RECORD.read_text())
        bad = [n for n in names if expected.get(n) != found[n]]
        print("differ:", bad or "none")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
