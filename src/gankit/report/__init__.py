"""Reports of run directories: plain files in, HTML, PNG and TensorBoard files out.

Importing the package first settles matplotlib's cache (`settle_matplotlib_cache`): where its
folders cannot be made (a read-only or odd home), the font cache goes to a private temporary
folder with gankit's own single warning, instead of matplotlib's warning on stderr (issue 21,
class 8).
"""

from __future__ import annotations

import os
import tempfile
import warnings

from gankit.errors import GankitWarning


def _writable_folder(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.path.isdir(path) and os.access(path, os.W_OK)


def settle_matplotlib_cache() -> str | None:
    """Point ``MPLCONFIGDIR`` at a private temporary folder where matplotlib's own config or
    cache folder cannot be made, with one `GankitWarning`; returns that folder (None where
    matplotlib's own folders serve, or ``MPLCONFIGDIR`` is set already)."""
    if os.environ.get("MPLCONFIGDIR"):
        return None
    home = os.path.expanduser("~")
    folders = [
        os.path.join(
            os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "matplotlib"
        ),
        os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "matplotlib"
        ),
    ]
    blocked = [f for f in folders if not _writable_folder(f)]
    if not blocked:
        return None
    private = tempfile.mkdtemp(prefix="gankit-matplotlib-")
    os.environ["MPLCONFIGDIR"] = private
    warnings.warn(
        f"{blocked[0]} cannot be made: matplotlib's font cache is kept in {private} for this "
        "run (set MPLCONFIGDIR to a writable folder to keep it)",
        GankitWarning,
        stacklevel=2,
    )
    return private


settle_matplotlib_cache()
