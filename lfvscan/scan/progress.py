"""Scan progress display on rank 0.

On a terminal: one line updated in place (cells done/total, failed, rate, ETA).  Otherwise
(log files of batch jobs): plain timestamped lines every ``interval_s`` seconds or every
``every_cells`` cells, whichever comes first.  Clock and stream are injectable for tests.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Callable, TextIO


def format_duration(seconds: float | None) -> str:
    """'1h02m', '3m05s', '12s' or '?' (None / not finite)."""
    if seconds is None or not seconds == seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class Progress:
    """Cumulative progress of one scan run.  Call :meth:`update` with running totals."""

    def __init__(
        self,
        total: int,
        done_before: int = 0,
        *,
        stream: TextIO | None = None,
        tty: bool | None = None,
        interval_s: float = 10.0,
        every_cells: int | None = None,
        min_redraw_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        label: str = "scan",
        enabled: bool = True,
    ):
        self.total = int(total)
        self.done_before = int(done_before)
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.interval_s = float(interval_s)
        self.every_cells = every_cells if every_cells is not None else max(10, self.total // 10)
        self.min_redraw_s = float(min_redraw_s)
        self.clock = clock
        self.label = label
        self.enabled = enabled
        self.t0 = clock()
        self.done = self.done_before
        self.failed = 0
        self._last_t = -float("inf")
        self._last_done = self.done_before
        self._drawn = False

    # ------------------------------------------------------------------
    def rate(self) -> float | None:
        """Cells per second in this run (None before the first cell)."""
        n = self.done + self.failed - self.done_before
        dt = self.clock() - self.t0
        return n / dt if n > 0 and dt > 0 else None

    def eta_s(self) -> float | None:
        remaining = self.total - self.done - self.failed
        if remaining <= 0:
            return 0.0
        r = self.rate()
        return remaining / r if r else None

    def line(self) -> str:
        pct = 100.0 * self.done / self.total if self.total else 100.0
        r = self.rate()
        rate = f"{r:.2f} cells/s" if r else "- cells/s"
        failed = f" | {self.failed} failed" if self.failed else ""
        return f"{self.label}: {self.done}/{self.total} cells ({pct:.1f}%){failed} | {rate} | ETA {format_duration(self.eta_s())}"

    def update(self, done: int, failed: int = 0, force: bool = False) -> None:
        """Record running totals (cells DONE overall, cells FAILED in this run) and maybe print."""
        self.done, self.failed = int(done), int(failed)
        if not self.enabled:
            return
        now = self.clock()
        if self.tty:
            if force or now - self._last_t >= self.min_redraw_s:
                self.stream.write("\r\x1b[2K" + self.line())
                self.stream.flush()
                self._drawn = True
                self._last_t = now
        elif force or now - self._last_t >= self.interval_s or self.done + self.failed - self._last_done >= self.every_cells:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.stream.write(f"{stamp} {self.line()}\n")
            self.stream.flush()
            self._last_t = now
            self._last_done = self.done + self.failed

    def message(self, text: str) -> None:
        """Print a message without garbling the TTY status line."""
        if not self.enabled:
            return
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        if self.tty and self._drawn:
            self.stream.write(self.line())
        self.stream.flush()

    def finish(self) -> None:
        """Final state (always printed); ends the TTY line."""
        if not self.enabled:
            return
        self._last_t = -float("inf")
        self.update(self.done, self.failed, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False  # later messages are plain lines
