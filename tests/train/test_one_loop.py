"""One training loop (issue 20): no module but gankit.train steps an optimizer or a scheduler,
and the feature classifiers' schedules in `gankit.train.schedules` are the ones they had."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch

import gankit
from gankit.train.schedules import cosine_annealing_rates, one_cycle

PACKAGE = Path(gankit.__file__).parent
ALLOWED = PACKAGE / "train"


def step_calls(source: str, filename: str = "<string>") -> list[str]:
    """``file:line: X.step()`` for every call of a method ``step`` without arguments: how an
    optimizer (``opt.step()``) or a learning-rate scheduler (``sched.step()``) is stepped."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "step"
            and not node.args
            and not node.keywords
        ):
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_scanner_finds_optimizer_and_scheduler_steps():
    snippet = (
        "def fit(opt, sched, loop):\n"
        "    loop.step += 1\n"  # an attribute, not a call
        "    opt.step()\n"
        "    self.optimizers['g'].step()\n"
        "    sched.step()\n"
        "    lbfgs.step(closure)\n"  # with an argument: not the pattern
    )
    assert step_calls(snippet, "x.py") == [
        "x.py:3: opt.step()",
        "x.py:4: self.optimizers['g'].step()",
        "x.py:5: sched.step()",
    ]


def test_only_gankit_train_steps_an_optimizer():
    files = [p for p in sorted(PACKAGE.rglob("*.py")) if ALLOWED not in p.parents]
    assert len(files) > 50  # the scan sees the package
    found = [
        hit
        for path in files
        for hit in step_calls(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    ]
    assert not found, "optimizer steps outside gankit.train (use gankit.train.loop.Loop):\n" + (
        "\n".join(found)
    )


def _old_lr_factor(progress: float) -> float:
    """The classifier's schedule as `gankit.metrics.features.classifier` wrote it before."""
    warm = 0.15
    if progress < warm:
        return 0.1 + 0.9 * progress / warm
    t = min(1.0, (progress - warm) / (1.0 - warm))
    return 0.5 * (1.0 + math.cos(math.pi * t)) + 1e-3


@pytest.mark.parametrize(
    ("progress", "factor"),
    [
        (0.0, 0.1),
        (0.075, 0.55),
        (0.15, 1.001),
        (0.575, 0.501),
        (1.0, 0.001),
        (1.7, 0.001),  # a spent time budget: clipped at the end of the cycle
    ],
)
def test_one_cycle_by_hand(progress, factor):
    assert one_cycle(progress) == pytest.approx(factor, abs=1e-12)


def test_one_cycle_is_the_classifiers_old_schedule_to_the_bit():
    for k in range(2001):
        p = k / 1000
        assert one_cycle(p) == _old_lr_factor(p)


@pytest.mark.parametrize(("base", "epochs"), [(2e-3, 60), (0.1, 7), (3e-3, 100)])
def test_cosine_annealing_rates_are_torchs_to_the_bit(base, epochs):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=base)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    torchs = []
    for _ in range(epochs):
        torchs.append(opt.param_groups[0]["lr"])
        opt.step()  # the test's own reference, outside the package
        sched.step()
    assert cosine_annealing_rates(base, epochs) == torchs
    closed = [base * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)]
    assert cosine_annealing_rates(base, epochs) == pytest.approx(closed, rel=1e-9)
