"""Stopping a scan: SIGTERM/SIGINT drain it, a second signal aborts.

A :class:`StopFlag` is passed to ``run_scan`` (a test may set it itself).  Once it is set no new
cells are handed out, cells in flight finish and are written, and the run exits with status
128+signal (143 for SIGTERM); rerunning resumes.  Under MPI a signal seen by any rank reaches rank
0 with that rank's next message and drains every rank.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable


class StopFlag:
    """Set by a signal handler (or a test); tells the engine to drain."""

    def __init__(self):
        self.signum: int | None = None
        self._event = threading.Event()

    def set(self, signum: int = signal.SIGTERM) -> None:
        if self.signum is None:
            self.signum = int(signum)
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def install_signal_handlers(flag: StopFlag) -> Callable[[], None]:
    """SIGTERM/SIGINT -> drain (first signal); a second signal aborts at once.  Returns a restorer."""
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum, frame):
        if flag.is_set():  # second signal: give up on the cells in flight
            for s, h in old.items():
                signal.signal(s, h)
            raise KeyboardInterrupt
        flag.set(signum)

    for s in old:
        signal.signal(s, handler)

    def restore():
        for s, h in old.items():
            signal.signal(s, h)

    return restore
