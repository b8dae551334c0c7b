"""A command's outputs never overwrite one of its inputs or one another (issue 21, class 6):
``gankit features A --out A`` would replace the images it reads with their features, ``--logits
F --out F`` one output with the other. Checked before anything is read or written."""

from __future__ import annotations

import os
from pathlib import Path

from gankit.errors import GankitError


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path (links followed), or the same
    existing file (hard links)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def refuse_overwrites(
    inputs: list[tuple[str, Path | None]], outputs: list[tuple[str, Path | None]]
) -> None:
    """`GankitError` naming both flags where an output is an input, or two outputs are one
    file; ``None`` entries (a flag not given) are skipped."""
    given_in = [(flag, p) for flag, p in inputs if p is not None]
    given_out = [(flag, p) for flag, p in outputs if p is not None]
    for i, (flag, path) in enumerate(given_out):
        for in_flag, source in given_in:
            if _same(path, source):
                raise GankitError(
                    f"{flag} {path}: is the input {in_flag}; write the output to another file"
                )
        for other_flag, other in given_out[i + 1 :]:
            if _same(path, other):
                raise GankitError(f"{flag} {path} and {other_flag} {other}: the same file")


def npy_output(flag: str, text: str, force: bool) -> Path:
    """The ``.npy`` file an output flag names, refused in one line where it is empty (an unset
    variable), not a ``.npy``, or exists without ``--force``."""
    if not text.strip():
        raise GankitError(f"{flag}: an empty path (an unset variable?); give a .npy file")
    out = Path(text)
    if out.suffix != ".npy":
        raise GankitError(f"{flag} {out}: must end in .npy")
    if out.exists() and not force:
        raise GankitError(f"{flag} {out} already exists; use --force to overwrite it")
    return out
