"""`gankit` starts without torch, and a Ctrl-C while a command is still starting is exit 130.

Issue 22: ``gankit --help``, ``--version`` and ``presets`` answer at once, because `gankit.cli`
and every command's parser import no torch, scipy or matplotlib (a command imports what does its
work when it runs: `gankit/commands/__init__.py`). These tests measure the import graph, not the
clock. Issue 21 (class 7): SIGINT in the first instants of a command -- while torch imports --
ends it with exit 130 and one line, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAVY = ("torch", "scipy", "matplotlib")
SCRIPT = Path(sys.executable).with_name("gankit")  # the console script, gankit.cli:main
TIMEOUT = 120

#: run ``gankit ARGS`` through `gankit.cli.main` and report, on stderr's last line, the heavy
#: modules it imported and its exit code
AUDIT = (
    "import json, sys\n"
    "from gankit.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
    "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
)


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    env.pop("GANKIT_DEBUG", None)
    return env


def _audit(*args) -> tuple[dict, str]:
    """(``{code, heavy}``, stdout) of ``gankit ARGS`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", AUDIT, *map(str, args)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.splitlines()[-1]), result.stdout


def test_the_cli_and_every_parser_import_no_torch_scipy_or_matplotlib():
    code = (
        "import sys, json\n"
        "import gankit.cli\n"
        "gankit.cli.build_parser()\n"  # every command's add_arguments
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=TIMEOUT
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["presets"],
        ["presets", "--keys"],
        ["presets", "--json"],
        ["train", "--help"],
        ["sample", "--help"],
        ["fid", "--help"],
    ],
    ids=" ".join,
)
def test_light_commands_import_no_torch(args):
    result, out = _audit(*args)
    assert result == {"code": 0, "heavy": []}
    assert out.strip()


def test_the_scan_sees_a_command_that_imports_torch():
    """The audit can fail: a command that does its work imports torch, and the audit says so."""
    # refused by the config (train.steps >= 1) after the import: --steps 0 is refused by the
    # parser itself now, so the value goes through --set
    result, _ = _audit("train", "--set", "train.steps=0")
    assert result["code"] == 2
    assert "torch" in result["heavy"]


def test_version_is_the_installed_package_version():
    from importlib import metadata

    result = subprocess.run(
        [sys.executable, "-m", "gankit", "--version"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"gankit {metadata.version('gankit')}\n"
    assert metadata.version("gankit") == "0.1.0"
    assert result.stderr == ""


def test_the_parsers_light_choices_are_the_suites():
    """`gankit fid`'s parser keeps copies of the suite's choices and defaults (the suite imports
    torch); they must not drift."""
    from gankit import runs
    from gankit.commands import fid, flags
    from gankit.eval import feature_space, suite
    from gankit.metrics.features.inception import RESIZE_MODES

    assert fid.FEATURE_CHOICES == suite.FEATURE_CHOICES
    assert fid.CLASSIFIER_DATASETS == feature_space.CLASSIFIER_DATASETS
    assert flags.RUN_CONFIG == runs.CONFIG  # how `--features` knows a run directory
    assert fid.RESIZE_CHOICES == RESIZE_MODES
    assert fid.DEFAULTS == {k: suite.DEFAULTS[k] for k in fid.DEFAULTS}


# ----------------------------------------------------------------------------- early Ctrl-C


def _handles_sigterm(pid: int) -> bool:
    """Whether the process catches SIGTERM (``SigCgt`` in ``/proc/PID/status``): Python does not
    by default, gankit's first statements do (`gankit.__main__`, `gankit.cli.main`)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


def _interrupt(command: list[str], delay: float, out: Path) -> subprocess.CompletedProcess:
    """Start ``COMMAND train ...``, wait until gankit's code runs (its handlers are in place:
    before that, the interpreter's own start-up -- site, runpy, a few tens of milliseconds --
    reports an interrupt its own way, which no program can change), then ``delay`` seconds
    more, and send SIGINT."""
    proc = subprocess.Popen(
        [*command, "train", "--preset", "gaussian-1d", "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    deadline = time.monotonic() + 30
    while not _handles_sigterm(proc.pid) and proc.poll() is None:
        assert time.monotonic() < deadline, "gankit never installed its signal handlers"
        time.sleep(0.001)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _assert_one_line(result: subprocess.CompletedProcess, delay: float) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    where = f"SIGINT after {delay} s: exit {result.returncode}, stderr:\n{result.stderr}"
    assert result.returncode == 130, where
    assert "Traceback" not in result.stderr, where
    assert len(lines) == 1, where
    assert lines[0].startswith("gankit: interrupted by SIGINT"), where
    assert result.stdout == "", where


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8])
def test_ctrl_c_while_python_m_gankit_starts_is_exit_130_in_one_line(tmp_path, delay):
    result = _interrupt([sys.executable, "-m", "gankit"], delay, tmp_path / "run")
    _assert_one_line(result, delay)


#: the console script pip writes for ``gankit = "gankit.__main__:main"`` (``[project.scripts]``)
ENTRY_SCRIPT = "import sys\nfrom gankit.__main__ import main\nsys.exit(main())\n"


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_ctrl_c_while_a_console_script_of_gankit_main_starts_is_exit_130(tmp_path, delay):
    """A console script naming ``gankit.__main__:main`` is guarded from its first import."""
    script = tmp_path / "gankit-script"
    script.write_text(ENTRY_SCRIPT)
    result = _interrupt([sys.executable, str(script)], delay, tmp_path / "run")
    _assert_one_line(result, delay)


@pytest.mark.skipif(not SCRIPT.is_file(), reason="the gankit console script is not installed")
@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_ctrl_c_while_the_installed_console_script_imports_torch_is_exit_130(tmp_path, delay):
    """The installed script (``gankit.cli:main`` until ``[project.scripts]`` names
    ``gankit.__main__:main``) imports `gankit.cli` before `main` runs: that import is light
    (0.1-0.2 s on a busy machine), and from `main`'s first statement on a Ctrl-C is exit 130 in
    one line."""
    result = _interrupt([str(SCRIPT)], delay, tmp_path / "run")
    _assert_one_line(result, delay)
