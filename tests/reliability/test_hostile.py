"""Hostile files: nothing gankit reads can run code, nothing it writes into a page is markup, no
path in a config makes it write outside its run directory.

* the package never unpickles (but the CIFAR reader's restricted unpickler), never calls
  ``torch.load`` without ``weights_only=True``, ``np.load`` with pickles, ``eval``/``exec``;
* HTML in a config (description, run name), a diagnosis, final metrics' keys or a run
  directory's name shows as text in every report page: the test renders the pages in headless
  chromium (``-m browser``; skipped where chromium is absent, ``make browser`` installs it) and
  reads the DOM after the scripts ran: none of the hostile scripts ran;
* a run name (``preset``) with ``../`` or slashes names a folder inside ``runs/``.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest
from reliability_kit import TOY, cli

import gankit
from gankit import config as config_mod
from gankit import runs
from headless_chromium import chromium, require_chromium

PACKAGE = Path(gankit.__file__).parent

#: what would run if inserted unescaped: a script, an event handler, an attribute breakout
TITLE = "<script>document.title='PWNED'</script>"
HANDLER = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
BREAKOUT = (
    "\"'></pre></table><script>document.body.appendChild(document.createElement('pwned'))</script>"
)
HOSTILE = (TITLE, HANDLER, BREAKOUT)


# ----------------------------------------------------------------------------- nothing runs code


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func: ast.expr) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def test_the_package_never_loads_untrusted_input_as_code():
    """A grep of the package's syntax trees: no pickle outside the CIFAR reader's restricted
    unpickler, torch.load only with weights_only=True, np.load never with allow_pickle=True,
    no eval/exec/compile, marshal, shelve, yaml.load, dill, joblib, cloudpickle."""
    forbidden_modules = {"pickle", "marshal", "shelve", "dill", "joblib", "cloudpickle", "yaml"}
    allowed_pickle = {PACKAGE / "data" / "datasets" / "cifar.py"}
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                module = node.module if isinstance(node, ast.ImportFrom) else None
                for name in [*names, module]:
                    root = (name or "").split(".")[0]
                    if root in forbidden_modules and path not in allowed_pickle:
                        problems.append(f"{where}:{node.lineno}: imports {name}")
        for call in _calls(tree):
            name = _name(call.func)
            keywords = {k.arg: k.value for k in call.keywords}
            builtin = isinstance(call.func, ast.Name) or name.startswith("builtins.")
            if builtin and name.split(".")[-1] in ("eval", "exec", "compile", "__import__"):
                problems.append(f"{where}:{call.lineno}: calls {name}()")
            if name.endswith("torch.load") or name == "load" and "weights_only" in keywords:
                value = keywords.get("weights_only")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    problems.append(f"{where}:{call.lineno}: torch.load without weights_only")
            if name.endswith(("np.load", "numpy.load")):
                value = keywords.get("allow_pickle")
                if value is not None and not (
                    isinstance(value, ast.Constant) and value.value is False
                ):
                    problems.append(f"{where}:{call.lineno}: np.load(allow_pickle=...)")
            if name.endswith(("pickle.load", "pickle.loads", "Unpickler")) and (
                path not in allowed_pickle
            ):
                problems.append(f"{where}:{call.lineno}: {name}")
    assert not problems, problems
    # the one unpickler there is refuses every global but the few a CIFAR batch needs
    text = (PACKAGE / "data" / "datasets" / "cifar.py").read_text()
    assert "def find_class" in text and "_ALLOWED_GLOBALS" in text


def test_checkpoints_are_safetensors_that_never_unpickle(tmp_path, straight_toy):
    """What `runs.load_checkpoint` accepts is safetensors only: a pickle (even one that would
    run code) under a checkpoint's name is refused, and nothing runs."""
    import os
    import pickle

    canary = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {canary}",))

    bad = tmp_path / "step-1.safetensors"
    bad.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(gankit.errors.GankitError, match="not a readable gankit checkpoint"):
        runs.load_checkpoint(bad)
    assert not canary.exists()
    for path in runs.checkpoint_files(straight_toy):
        assert path.read_bytes()[8:9] == b"{"  # a safetensors JSON header, not a pickle


# ----------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    "name",
    ["../../escape", "/etc/passwd", "a/b/../../../c", "..", ".hidden", "", "<script>x</script>"],
)
def test_a_run_name_cannot_leave_runs(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = runs.default_run_dir(name)
    assert path.parent == Path("runs") and len(path.parts) == 2
    assert (tmp_path / path).resolve().is_relative_to(tmp_path / "runs")
    assert not path.name.startswith(".")


# ----------------------------------------------------------------------------- HTML


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory):
    """A toy run trained from a config whose preset (its run name) and description are HTML,
    without --out (so its folder is named after the hostile preset, inside runs/), then given
    a hostile diagnosis, final metrics and folder name; its report and a comparison page."""
    root = tmp_path_factory.mktemp("hostile")
    cfg = config_mod.resolve(overrides=TOY)
    text = config_mod.dumps(cfg)
    text = text.replace('preset = "gaussian-1d"', f"preset = {json.dumps('../../' + TITLE)}")
    text = text.replace('description = "', f"description = {json.dumps(HANDLER + BREAKOUT)[:-1]}")
    (root / "hostile.toml").write_text(text)
    import os

    cwd = os.getcwd()
    os.chdir(root)
    try:
        code, out, err = cli("train", "--config", root / "hostile.toml", "--quiet")
    finally:
        os.chdir(cwd)
    assert code == 0, err
    made = [p for p in (root / "runs").iterdir()]
    assert len(made) == 1 and sorted(p.name for p in root.iterdir()) == ["hostile.toml", "runs"]
    run = made[0]
    diagnosis = json.loads((run / runs.DIAGNOSIS).read_text())
    diagnosis["failures"] = [
        {
            "name": TITLE,
            "first_step": 10,
            "last_step": 20,
            "evidence": {HANDLER: BREAKOUT},
            "explanation": BREAKOUT,
            "advice": [HANDLER, TITLE],
        }
    ]
    diagnosis["summary"] = TITLE
    (run / runs.DIAGNOSIS).write_text(json.dumps(diagnosis))
    final = json.loads((run / runs.FINAL).read_text())
    final[TITLE] = 1.0
    (run / runs.FINAL).write_text(json.dumps(final))
    hostile_dir = root / "runs" / "r<b onmouseover=alert(1)>'\"x"
    shutil.move(run, hostile_dir)
    code, _, err = cli("report", hostile_dir, "--no-tensorboard")
    assert code == 0, err
    twin = Path(shutil.copytree(hostile_dir, root / "runs" / "twin<script>1</script>"))
    code, _, err = cli("report", hostile_dir, twin, "--out", root / "cmp")
    assert code == 0, err
    return [hostile_dir / runs.REPORT, root / "cmp" / runs.REPORT]


def test_hostile_strings_are_escaped_in_every_page(hostile_pages):
    for page in hostile_pages:
        text = page.read_text()
        for payload in HOSTILE:
            assert payload not in text, (page, payload)
        assert "<pwned" not in text and 'onerror="document' not in text
        assert "&lt;script&gt;document.title=" in text  # shown, as text
        assert len(re.findall(r"<script>", text)) == text.count("</script>")


@pytest.mark.browser
def test_no_hostile_script_runs_in_a_browser(hostile_pages, tmp_path):
    require_chromium("open the hostile pages in a real headless browser")
    for i, page in enumerate(hostile_pages):
        # a probe of ours, appended after the page's own scripts, proves that scripts run
        probe = page.with_name(f"probe{i}.html")
        probe.write_text(
            page.read_text().replace(
                "</body>", "<script>document.body.setAttribute('data-probe','ran')</script></body>"
            )
        )
        dom = chromium(probe, tmp_path / "profile", "--virtual-time-budget=2000", "--dump-dom")
        assert 'data-probe="ran"' in dom, "the page's scripts did not run at all"
        title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
        assert title != "PWNED", page
        assert not re.search(r"<body[^>]*data-pwned", dom), page
        assert "<pwned" not in dom, page
