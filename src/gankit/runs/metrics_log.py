"""``RUN/metrics.jsonl``: whole lines only, torn ones never read as data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gankit.errors import GankitError
from gankit.runs.atomic import atomic_write_text, one_line, open_no_follow, write_failure
from gankit.runs.names import METRICS

# ----------------------------------------------------------------------------- metrics.jsonl

WALL_CLOCK_KEYS = frozenset({"time", "eval_seconds", "snapshot_seconds"})
"""Keys of a metrics row that time the machine, not the run: they differ between two runs of
the same seed, so comparisons of behaviour (resume, golden digests) leave them out."""


def without_wall_clock(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` less its wall-clock keys: what two identical runs must agree on."""
    return {k: v for k, v in row.items() if k not in WALL_CLOCK_KEYS}


def _row_or_none(line: bytes) -> dict | None:
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):  # a torn or foreign line (UnicodeDecodeError too)
        return None
    if not isinstance(row, dict):
        return None
    step = row.get("step")
    if "step" in row and (isinstance(step, bool) or not isinstance(step, int)):
        return None
    return row


def read_metrics(run: Path) -> list[dict[str, Any]]:
    """Every complete row of ``RUN/metrics.jsonl``: a JSON object per line, whose ``step``
    (where present) is an integer. A line cut short by a kill, or anything else that is not
    such a row (binary garbage, a list, text), is skipped, never read as data."""
    path = Path(run) / METRICS
    if path.is_symlink() or not path.is_file():
        return []  # a link is never followed out of a run; a folder or a FIFO holds no row
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except GankitError:
        return []
    except OSError as exc:
        raise GankitError(f"{path}: cannot read ({one_line(exc)})") from None
    try:
        with os.fdopen(fd, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise GankitError(f"{path}: cannot read ({one_line(exc)})") from None
    rows = []
    for line in data.split(b"\n"):
        if line.strip():
            row = _row_or_none(line)
            if row is not None:
                rows.append(row)
    return rows


def truncate_metrics(run: Path, last_step: int) -> None:
    """Keep only the rows up to ``last_step`` (what a resumed run will write again is dropped,
    and so is any torn line)."""
    rows = [r for r in read_metrics(run) if r.get("step", -1) <= last_step]
    atomic_write_text(Path(run) / METRICS, "".join(json.dumps(r) + "\n" for r in rows))


class LineLog:
    """An append-only file of whole lines (``metrics.jsonl``): a write that fails (a full disk)
    is cut back to the last whole line and raised as a `RuntimeFailure` naming the file; a
    file whose last line was cut short by a kill gets a newline first. Opened without
    following a symbolic link (`open_no_follow`: a link is a `GankitError` naming it)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd: int | None = None

    def open(self) -> LineLog:
        try:
            self.fd = open_no_follow(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
            size = os.fstat(self.fd).st_size
            if size and os.pread(self.fd, 1, size - 1) != b"\n":
                os.write(self.fd, b"\n")
        except OSError as exc:
            self.close()
            raise write_failure(self.path, exc) from None
        return self

    def write(self, line: str) -> None:
        data = (line.rstrip("\n") + "\n").encode()
        size = os.fstat(self.fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self.fd, size)
            except OSError:
                pass
            raise write_failure(self.path, exc) from None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> LineLog:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


def append_metrics_row(run: Path, row: dict[str, Any]) -> None:
    """Append one line to ``RUN/metrics.jsonl`` (outside a trainer's open log)."""
    with LineLog(Path(run) / METRICS) as log:
        log.write(json.dumps(row))
