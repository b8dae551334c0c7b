"""The import contract (pyproject.toml, docs/architecture.md) holds, and can fail.

`lint-imports` checks the layers, the absence of cycles, that reports and diagnoses never reach
the training layers, and that nothing but the CIFAR unpickler imports pickle. These tests run it
on the package, then on copies of the package with a deliberately upward import, a deliberate
cycle, a report that imports the training loop and a pickle import beside the CIFAR unpickler
added, which it must reject; and they read every module for function-level imports, which may
only bring in a heavy third-party dependency, with its reason on the line -- or, in a command
module (`gankit.commands`), what the command's ``run`` needs, marked ``# deferred: <reason>``, so
that the parser and ``gankit --help`` import no torch (`gankit/commands/__init__.py`).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "gankit"
LINT = Path(sys.executable).with_name("lint-imports")
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package found in ``src`` (ahead of the installed one)."""
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def broken_contracts(result: subprocess.CompletedProcess) -> set[str]:
    """The ids of the contracts ``lint-imports`` reports broken (read from its "Broken
    contracts" section, where each broken contract's name heads its violations)."""
    text = " ".join(result.stdout.split())  # lint-imports wraps long names
    if "Broken contracts" not in text:
        return set()
    broken = text.split("Broken contracts", 1)[1]
    return {c["id"] for c in CONTRACTS["contracts"] if " ".join(c["name"].split()) in broken}


def copy_package(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "gankit", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_the_package_keeps_every_contract(tmp_path):
    result = lint_imports(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    src = copy_package(tmp_path)
    with open(src / "gankit" / "data" / "toy.py", "a") as fh:
        fh.write("\nfrom gankit import api  # noqa: E402,F401  deliberately upward\n")
    result = lint_imports(src, tmp_path)
    assert result.returncode != 0
    assert "gankit.data.toy -> gankit.api" in result.stdout


def test_a_cycle_inside_a_package_is_refused(tmp_path):
    src = copy_package(tmp_path)
    with open(src / "gankit" / "report" / "figures.py", "a") as fh:
        fh.write("\nfrom gankit.report import groups  # noqa: E402,F401  deliberate cycle\n")
    result = lint_imports(src, tmp_path)
    assert result.returncode != 0
    assert "No cycles are allowed in gankit.report" in result.stdout


def test_a_report_that_imports_the_training_loop_breaks_readers(tmp_path):
    """``readers``: a report reads run directories; importing gankit.train is refused (the
    layers refuse it too, as every module ``readers`` forbids sits above report and diagnose:
    ``readers`` states the intent, and would hold if the layers were ever reordered)."""
    src = copy_package(tmp_path)
    with open(src / "gankit" / "report" / "figures.py", "a") as fh:
        fh.write("\nfrom gankit import train  # noqa: E402,F401  a reader that trains\n")
    result = lint_imports(src, tmp_path)
    assert result.returncode != 0
    assert "readers" in broken_contracts(result), result.stdout
    assert "gankit.report is not allowed to import gankit.train" in result.stdout
    assert "gankit.report.figures -> gankit.train" in result.stdout


def test_pickle_beside_the_cifar_unpickler_breaks_no_pickle(tmp_path):
    """``no-pickle``: only gankit.data.datasets.cifar may import pickle, not even its
    neighbour in gankit.data.datasets; no other contract minds."""
    src = copy_package(tmp_path)
    with open(src / "gankit" / "data" / "datasets" / "idx.py", "a") as fh:
        fh.write("\nimport pickle  # noqa: E402,F401  deliberately outside the CIFAR unpickler\n")
    result = lint_imports(src, tmp_path)
    assert result.returncode != 0
    assert broken_contracts(result) == {"no-pickle"}, result.stdout
    assert "gankit is not allowed to import pickle" in result.stdout
    assert "gankit.data.datasets.idx -> pickle" in result.stdout
    assert "gankit.data.datasets.cifar -> pickle" not in result.stdout  # its one exception


def test_a_function_level_import_is_seen_by_the_contract(tmp_path):
    """A lazy import inside a function is an import: it cannot dodge the layers."""
    src = copy_package(tmp_path)
    with open(src / "gankit" / "metrics" / "fid.py", "a") as fh:
        fh.write("\n\ndef _sneaky():\n    from gankit.recipes import load_run\n\n    return 1\n")
    result = lint_imports(src, tmp_path)
    assert result.returncode != 0
    assert "gankit.metrics.fid -> gankit.recipes" in result.stdout


def test_the_layers_cover_every_top_level_module():
    layers = next(c for c in CONTRACTS["contracts"] if c["id"] == "layers")["layers"]
    named = {m.strip() for layer in layers for m in layer.split("|")}
    found = {
        f"gankit.{p.stem if p.is_file() else p.name}"
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert found == named, f"not in a layer: {found - named}; no such module: {named - found}"


def function_level_imports(package: Path):
    """``(path, line, module, text)`` of every import statement inside a function."""
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import):
                    yield path, sub.lineno, sub.names[0].name, lines[sub.lineno - 1]
                elif isinstance(sub, ast.ImportFrom):
                    yield path, sub.lineno, sub.module or "", lines[sub.lineno - 1]


#: the one package whose modules may defer an import of gankit's (or of numpy) to the function
#: that needs it: a command's parser stays light, its ``run`` imports the API
DEFERRING = "commands"
DEFERRED = re.compile(r"#\s*deferred:\s*\S")  # the marker, with a reason after it


def allowed(package: Path, path: Path, module: str, text: str) -> bool:
    """A function-level import is allowed where it is a heavy third-party dependency marked
    ``# heavy import``, or, in a module of `DEFERRING` only, any import marked
    ``# deferred: <reason>``."""
    if DEFERRED.search(text):
        return path.relative_to(package).parts[0] == DEFERRING
    return not module.startswith("gankit") and "# heavy import" in text


def unexplained_function_level_imports(package: Path) -> list[str]:
    """Function-level imports that are not `allowed`: of gankit modules outside the command
    modules, or unmarked (they would hide a cycle), or of third-party modules without ``# heavy
    import`` and a reason on the line."""
    return [
        f"{path.relative_to(package)}:{line}: {text.strip()}"
        for path, line, module, text in function_level_imports(package)
        if not allowed(package, path, module, text)
    ]


def test_function_level_imports_are_only_heavy_optional_dependencies():
    bad = unexplained_function_level_imports(PACKAGE)
    assert not bad, "function-level imports without a reason:\n" + "\n".join(bad)


def test_the_function_level_scan_can_fail(tmp_path):
    (tmp_path / "m.py").write_text(
        "import os\n\n\n"
        "def f():\n    from gankit import api  # heavy import: no excuse for gankit\n\n\n"
        "def g():\n    import tqdm\n\n\n"
        "def h():\n    import ot  # heavy import (~1 s): only here\n"
    )
    bad = unexplained_function_level_imports(tmp_path)
    assert [b.split(": ", 1)[1] for b in bad] == [
        "from gankit import api  # heavy import: no excuse for gankit",
        "import tqdm",
    ]


def test_the_deferred_allowance_is_only_for_marked_imports_in_commands(tmp_path):
    """``# deferred: <reason>`` lets a command's ``run`` import the API; the scan still refuses
    the marker outside `gankit.commands`, a marker without a reason, and an unmarked import of
    gankit inside a command module."""
    (tmp_path / "commands").mkdir()
    (tmp_path / "metrics").mkdir()
    (tmp_path / "commands" / "c.py").write_text(
        "def run(args):\n"
        "    from gankit import api  # deferred: torch (~2 s), --help stays light\n"
        "    import numpy as np  # deferred: numpy\n\n\n"
        "def other():\n    from gankit.eval import suite\n\n\n"
        "def bare():\n    from gankit import api  # deferred:\n"
    )
    (tmp_path / "metrics" / "m.py").write_text(
        "def f():\n    from gankit.recipes import load_run  # deferred: torch\n"
    )
    bad = unexplained_function_level_imports(tmp_path)
    assert bad == [
        "commands/c.py:7: from gankit.eval import suite",
        "commands/c.py:11: from gankit import api  # deferred:",
        "metrics/m.py:2: from gankit.recipes import load_run  # deferred: torch",
    ]
