"""SIGINT and SIGTERM while training: finish the step, checkpoint it, then stop.

`DeferredSignals` replaces both handlers for the duration of `Loop.fit
<gankit.train.loop.Loop.fit>`: the first signal is only noted (``received``), and the
loop, at the end of the step in flight, writes a checkpoint at that step and raises
`~gankit.errors.Interrupted` (exit code 130 / 143). A second signal raises at once, without a
new checkpoint (``--resume`` then continues from the previous one). The handlers that were
installed before are restored on exit. Only the main thread can install handlers; elsewhere the
context does nothing.
"""

from __future__ import annotations

import signal
import sys
import threading

from gankit.errors import Interrupted, signal_name

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class DeferredSignals:
    """Note the first SIGINT/SIGTERM in ``received``; raise `Interrupted` on the second."""

    def __init__(self):
        self.received: int | None = None
        self.previous: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum
            if sys.stderr is not None and sys.stderr.isatty():
                print(
                    f"\ngankit: {signal_name(signum)} received: checkpointing at the end of this "
                    "step (send it again to stop at once)",
                    file=sys.stderr,
                    flush=True,
                )
            return
        raise Interrupted(signum, note="stopped at once by a second signal, without a checkpoint")

    def __enter__(self) -> DeferredSignals:
        self.received = None
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                try:
                    self.previous[signum] = signal.signal(signum, self._handle)
                except (ValueError, OSError):  # pragma: no cover - not the main interpreter
                    continue
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self.previous = {}
