"""What the reliability tests share: tiny configs, the `gankit` command in this process and in
forked children (no torch import per child: they start in milliseconds), snapshots of a file
tree, and the checks that a run directory is usable and that two runs ended bit-identical."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck
from safetensors import safe_open
from safetensors.torch import load_file

from gankit import config as config_mod
from gankit import runs

#: the reliability suites' hypothesis settings: reproducible examples (derandomize), no
#: deadline for commands that train, fixtures shared across the examples of a test
HYPOTHESIS_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: a toy run of 30 steps: a row per step, evaluations at 10, 20, 30, a checkpoint every 5 steps
TOY = [
    "train.steps=30",
    "log.every=1",
    "log.eval_every=10",
    "log.eval_samples=200",
    "log.final_samples=500",
    "train.checkpoint_every=5",
]
#: an image run (the scikit-learn digits, DCGAN) of 10 steps: evaluations (grids, snapshots) at
#: 5 and 10, nearest.npz at the end, a checkpoint every 5 steps
DIGITS = [
    "train.steps=10",
    "log.every=1",
    "log.eval_every=5",
    "log.eval_samples=100",
    "log.final_samples=200",
    "train.checkpoint_every=5",
    "train.batch_size=16",
    "train.threads=1",  # the preset's 2 would start OpenMP threads: a forked child cannot
]


def write_config(path: Path, preset: str = "gaussian-1d", overrides=TOY) -> Path:
    """A config file of ``preset`` with ``overrides``: ``gankit train --config PATH``."""
    path.write_text(config_mod.dumps(config_mod.resolve(preset, overrides=list(overrides))))
    return path


def cli(*args) -> tuple[int, str, str]:
    """``gankit ARGS`` through `gankit.cli.main` in this process: (exit code, stdout, stderr)."""
    from gankit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


# ----------------------------------------------------------------------------- forked children


class Child:
    """``gankit ARGS`` in a forked child of this process (torch already imported: no start-up
    cost), with ``env`` added to its environment and, where given, ``fsize`` as its file-size
    limit (``RLIMIT_FSIZE``, SIGXFSZ ignored: a write past it fails with EFBIG). Its stdout and
    stderr go to files in ``logs``."""

    def __init__(self, args, logs: Path, env: dict | None = None, fsize: int | None = None):
        logs.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = logs / "stdout", logs / "stderr"
        self.code: int | None = None
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 99
            try:
                os.environ.update(env or {})
                if fsize is not None:
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
                torch.set_num_threads(1)
                sys.stdout = open(self.out_path, "w", buffering=1)  # noqa: SIM115
                sys.stderr = open(self.err_path, "w", buffering=1)  # noqa: SIM115
                from gankit.cli import main

                code = main([str(a) for a in args])
            except BaseException:  # noqa: BLE001 - reported through the exit code and stderr
                with contextlib.suppress(Exception):
                    traceback.print_exc(file=sys.stderr)
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        self.pid = pid

    def poll(self) -> int | None:
        if self.code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def wait(self, timeout: float = 300) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"child {self.pid} ran past {timeout} s: {self.stderr}")
            time.sleep(0.01)
        return self.code

    def kill(self, signum: int = signal.SIGKILL) -> int:
        if self.poll() is None:
            os.kill(self.pid, signum)
        return self.wait()

    def kill_when(self, condition, timeout: float = 120, what: str = "") -> None:
        """SIGKILL the child as soon as ``condition()`` holds; fails if it ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.poll() is not None:
                raise AssertionError(
                    f"the child ended ({self.code}) before it could be killed {what}: {self.stderr}"
                )
            with contextlib.suppress(Exception):
                if condition():
                    os.kill(self.pid, signal.SIGKILL)
                    assert self.wait() == -signal.SIGKILL
                    return
            time.sleep(0.002)
        self.kill()
        raise AssertionError(f"timed out waiting to kill the child {what}")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text() if self.err_path.is_file() else ""

    @property
    def stdout(self) -> str:
        return self.out_path.read_text() if self.out_path.is_file() else ""


# ----------------------------------------------------------------------------- file trees


def tree_state(*roots: Path) -> dict[str, tuple]:
    """Every file and folder under ``roots``: (kind, size, mtime_ns, sha256 of the content)."""
    state = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            continue
        for path in sorted([root, *root.rglob("*")]):
            st = path.lstat()
            if path.is_dir() and not path.is_symlink():
                state[str(path)] = ("dir",)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
                state[str(path)] = ("file", st.st_size, st.st_mtime_ns, digest)
    return state


def rows_of(run: Path) -> list[dict]:
    """``metrics.jsonl`` without wall-clock times (what must match between two runs)."""
    return [runs.without_wall_clock(r) for r in runs.read_metrics(run)]


def assert_same_final_state(a: Path, b: Path) -> None:
    """Bit-identical final weights, optimizer states and RNG streams (and the checkpoints' metadata:
    step, digest); the same metrics rows and the same final metrics."""
    pa, pb = runs.latest_checkpoint(a), runs.latest_checkpoint(b)
    assert pa.name == pb.name
    ta, tb = load_file(str(pa)), load_file(str(pb))
    assert ta.keys() == tb.keys()
    for key in ta:
        assert ta[key].dtype == tb[key].dtype and torch.equal(ta[key], tb[key]), key
    with safe_open(str(pa), "pt") as meta_a, safe_open(str(pb), "pt") as meta_b:
        assert meta_a.metadata() == meta_b.metadata()
    assert rows_of(a) == rows_of(b)
    fa = json.loads((a / runs.FINAL).read_text())
    fb = json.loads((b / runs.FINAL).read_text())
    assert fa == fb


def assert_usable(run: Path) -> None:
    """Whatever a kill left in ``run`` is usable: every file under its final name is whole
    (checkpoints verify, JSON parses, arrays and images load) and every metrics row is a row."""
    from PIL import Image

    for path in sorted(run.rglob("*")):
        if not path.is_file() or runs.is_temporary(path.name) or path.name == runs.LOCK:
            continue
        if any(runs.is_temporary(part) for part in path.relative_to(run).parts[:-1]):
            continue
        if path.suffix == ".safetensors" and path.parent.name == runs.CHECKPOINTS:
            runs.load_checkpoint(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                for key in npz.files:
                    npz[key]
        elif path.suffix == ".png":
            with Image.open(path) as im:
                im.load()
        elif path.suffix == ".html":
            assert path.read_text().rstrip().endswith("</html>"), path
        elif path.name == runs.CONFIG:
            config_mod.resolve(config_file=path)
        elif path.name == runs.LATEST:
            assert (path.parent / path.read_text().strip()).is_file(), path
    text = (run / runs.METRICS).read_bytes() if (run / runs.METRICS).exists() else b""
    whole = text.split(b"\n")[:-1] if not text.endswith(b"\n") else text.split(b"\n")
    for line in whole:
        if line.strip():
            assert isinstance(json.loads(line).get("step"), int), line
    assert all(isinstance(r.get("step"), int) for r in runs.read_metrics(run))


def temporaries(run: Path) -> list[Path]:
    return [p for p in run.rglob(".*") if runs.is_temporary(p.name)]
