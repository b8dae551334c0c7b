"""Readers of run directories work on any family's run without importing the recipes (a
VAE's ``[vae]`` section is read as it is and checked where the family trains), and an optional
cache that cannot be made is skipped with gankit's own single warning (issue 21, class 8)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gankit import config as config_mod


def test_a_config_of_an_unimported_family_is_read_and_checked_later(tmp_path):
    text = config_mod.dumps(config_mod.resolve(preset="vae-ring-8"))
    path = tmp_path / "config.toml"
    path.write_text(text)
    code = (
        "import sys; from gankit import config as c\n"
        f"cfg = c.resolve(config_file={str(path)!r})\n"
        "assert 'gankit.recipes' not in sys.modules and isinstance(cfg.sections['vae'], dict)\n"
        "import gankit.recipes as r; r.check_config(cfg)\n"
        "assert type(cfg.sections['vae']).__name__ == 'VaeConfig'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("latent_dim = 2", "latent_dim = -3"))
    code = "\n".join(
        [
            "from gankit import config as c",
            f"cfg = c.resolve(config_file={str(bad)!r})",  # as it is: no recipe registered
            "import gankit.recipes as r",
            "try:",
            "    r.check_config(cfg)",
            "except c.GankitError as e:",
            "    print(e)",
        ]
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "vae.latent_dim: -3 is out of range" in result.stdout, result.stderr
    with pytest.raises(config_mod.GankitError, match="vae.latent_dim"):
        config_mod.resolve(config_file=bad)  # the recipes imported: refused at once


def test_an_unmakeable_matplotlib_cache_is_one_gankit_warning(tmp_path):
    """A home where matplotlib cannot make its folders: the report is written, and stderr
    holds one `gankit: warning:` line, not matplotlib's."""
    run = tmp_path / "run"
    env = dict(os.environ, HOME="/dev/null/home", MPLBACKEND="Agg")
    for key in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env.pop(key, None)
    train = [sys.executable, "-m", "gankit", "train", "--preset", "gaussian-1d", "--out", run]
    args = [*train, "--steps", "20", "--set", "log.final_samples=500", "--quiet"]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gankit: warning: "), result.stderr
    assert "matplotlib's font cache is kept in" in lines[0]
    assert (run / "report.html").is_file()
