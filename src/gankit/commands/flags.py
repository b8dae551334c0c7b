"""Command-line values that are not config keys (``-n``, ``--seed``, ``--batch-size``,
``--device``) go through the config's one validator (`gankit.config.parse_number`,
`gankit.config.check_device`): type, finiteness and range, refused in one line naming the flag
(issue 21), exactly as a config key would be. ``--features`` (a named feature space or a run
directory) is checked here too, without importing the run layer (which imports torch)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from gankit.config import (
    MAX_BATCH,
    MAX_COUNT,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_STEPS,
    check_device,
    parse_number,
    show,
)
from gankit.errors import GankitError


def _checked(flag: str, check: Callable[[str], object]) -> Callable[[str], object]:
    """``check`` as an argparse ``type``: its one-line refusal becomes argparse's message
    (``argument -n: 0 is out of range (must be >= 1)``)."""

    def read(text: str):
        try:
            return check(text)
        except GankitError as exc:
            message = str(exc).removeprefix(f"{flag}: ")
            raise argparse.ArgumentTypeError(message) from None

    read.__name__ = flag.lstrip("-").replace("-", "_")
    return read


def integer(flag: str, lo: int, hi: int) -> Callable[[str], int]:
    """An argparse ``type`` reading an integer in [``lo``, ``hi``] for ``flag``."""

    return _checked(flag, lambda text: int(parse_number(flag, text, lo, hi, integer=True)))


def device(flag: str) -> Callable[[str], str]:
    """An argparse ``type`` reading a torch device name for ``flag``."""

    return _checked(flag, lambda text: check_device(flag, text))


#: the file that makes a folder a run directory: `gankit.runs.CONFIG` (`gankit.runs` imports
#: torch; a test checks that the two agree)
RUN_CONFIG = "config.toml"


def feature_space(flag: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    """An argparse ``type`` reading a feature space for ``flag``: one of ``choices``, or a run
    directory (a folder holding `RUN_CONFIG`: the space that run's metrics are in)."""

    def check(text: str) -> str:
        if text in choices or (text and (Path(text) / RUN_CONFIG).is_file()):
            return text
        raise GankitError(
            f"{flag}: {show(text)} is neither one of {', '.join(choices)} nor a run directory "
            f"(a folder holding {RUN_CONFIG})"
        )

    return _checked(flag, check)


SEED = integer("--seed", 0, MAX_SEED)
SAMPLES = integer("-n", 1, MAX_SAMPLES)
BATCH = integer("--batch-size", 1, MAX_BATCH)
STEPS = integer("--steps", 1, MAX_STEPS)
CLASS = integer("--class", 0, MAX_COUNT)
CODE = integer("--code", 0, MAX_COUNT)
