"""A cell function that records its calls where the test process can read them.

A scan computes its cells in a child process (lfvscan.scan.cell_process), so a cell function
cannot record into the test's memory or set the test's StopFlag: :class:`CallLog` appends one line
per call to a file, and stops the scan as a user would, by sending SIGTERM to the scanning process
(the child's parent), whose handler (:func:`sigterm_drains`) sets the StopFlag; the cell returns
once the scan has passed the signal on to its cell process, so the drain is deterministic: this
cell is written, none after it starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import time
from typing import Callable

from lfvscan.scan.signals import StopFlag, install_signal_handlers

from _scan_cells import cheap_cell


class CallLog:
    """Calls ``fn`` (default cheap_cell) and records (target, E, m, seed) of each call; its
    ``stop_at``-th call sends SIGTERM to the scanning process; ``fail(target, E, m)`` true raises."""

    def __init__(self, fn: Callable = cheap_cell, stop_at: int | None = None, fail=lambda *a: False):
        fd, self.path = tempfile.mkstemp(prefix="lfvscan-calls-", suffix=".jsonl")
        os.close(fd)
        self.fn, self.stop_at, self.fail = fn, stop_at, fail

    def __call__(self, target, energy_GeV, mass_GeV, **kw):
        name = target if isinstance(target, str) else target.name
        with open(self.path, "a") as f:
            f.write(json.dumps([name, energy_GeV, mass_GeV, kw.get("seed")]) + "\n")
        if self.stop_at is not None and len(self.calls) == self.stop_at:
            _signal_the_scan()
        if self.fail(name, energy_GeV, mass_GeV):
            raise ZeroDivisionError("synthetic failure\nsecond line")
        return self.fn(target, energy_GeV, mass_GeV, **kw)

    @property
    def calls(self) -> list[tuple[str, float, float, int]]:
        with open(self.path) as f:
            return [tuple(json.loads(line)) for line in f]

    def __del__(self):
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _signal_the_scan(timeout_s: float = 60.0) -> None:
    """SIGTERM to the scanning process (this cell process's parent), as if it came while this cell
    computes; returns once the scan has passed it on to this process (its drain has begun)."""
    passed_on = []
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def chained(signum, frame):
        passed_on.append(signum)
        if callable(old[signum]):
            old[signum](signum, frame)

    for s in old:
        signal.signal(s, chained)
    try:
        os.kill(os.getppid(), signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while not passed_on:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the scan did not pass SIGTERM on to its cell process within {timeout_s} s")
            time.sleep(0.001)  # polling interval only; the condition decides
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def sigterm_drains(stop: StopFlag):
    """SIGTERM/SIGINT to this process set ``stop`` (the CLI's handlers) while the block runs."""
    restore = install_signal_handlers(stop)
    try:
        yield stop
    finally:
        restore()
