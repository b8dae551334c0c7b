"""The check every loader's refusal passes: a `GankitError` (not a subclass, not a traceback
from deeper down), one line, naming the file, key or value at fault."""

from __future__ import annotations

from gankit.errors import GankitError


def one_line_error(excinfo, *names) -> str:
    msg = str(excinfo.value)
    assert type(excinfo.value) is GankitError
    assert "\n" not in msg, msg
    for name in names:
        assert str(name) in msg, (name, msg)
    return msg
