"""Debian's chromium, headless and offline, for the tests that open report pages in a real
browser (the report's rendering and scripts; hostile strings that must not run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# no background requests, which this closed network would refuse
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def require_chromium(to_do: str) -> None:
    """Skip the calling test, saying why and how to install it, where chromium is absent."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: install it (make browser, or apt-get install -y chromium) "
            f"to {to_do}"
        )


def chromium(page: Path, profile: Path, *options: str) -> str:
    """Open ``page`` with ``options`` (e.g. ``--dump-dom``) in a fresh profile; its stdout."""
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *options, page.resolve().as_uri()]
    return subprocess.run(cmd, check=True, timeout=120, capture_output=True, text=True).stdout
