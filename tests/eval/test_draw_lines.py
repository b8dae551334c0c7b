"""The final evaluation's draws report on stderr: a first line, then at most one per period,
and the last draw (`gankit.eval.base.draw_lines`)."""

from __future__ import annotations

import io
import time

from gankit.eval import base
from gankit.eval.base import draw_lines


def test_draw_lines_say_the_first_the_periodic_and_the_last_draw(monkeypatch):
    clock = [50.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    report = draw_lines("final evaluation", every=10.0, stream=out)
    for i in range(1, 100):  # draws 2..100 of 100, 1 s each
        clock[0] += 1.0
        report(i, 100)
    lines = out.getvalue().splitlines()
    assert lines[0] == "gankit: final evaluation: FID over 100 draws, draw 2/100, 1 s"
    assert lines[1] == "gankit: final evaluation: draw 12/100, 11 s"
    assert lines[-1] == "gankit: final evaluation: draw 100/100, 99 s"
    assert len(lines) == 11  # the first, every 10 s (draws 12..92), the last
    assert base.DRAW_LINE_SECONDS <= 30  # a log never waits longer than issue 22's 30 s
